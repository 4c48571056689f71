# Hyper-V configuration of the VM "uefi-vm", written by Polyvisor.
# Run it on the Hyper-V host from the folder holding it and its disks:
#   powershell -ExecutionPolicy Bypass -File .\uefi-vm.ps1
$ErrorActionPreference = 'Stop'
$VMName = 'uefi-vm'
New-VM -Name $VMName -Generation 2 -MemoryStartupBytes 2147483648 -NoVHD -Path $PSScriptRoot
Set-VMProcessor -VMName $VMName -Count 1
Set-VMMemory -VMName $VMName -DynamicMemoryEnabled $false
Set-VMFirmware -VMName $VMName -EnableSecureBoot Off
Remove-VMNetworkAdapter -VMName $VMName
Add-VMHardDiskDrive -VMName $VMName -ControllerType SCSI -ControllerNumber 0 -ControllerLocation 0 -Path "$PSScriptRoot\uefi-vm-root.vhdx"
# (no network adapters)
