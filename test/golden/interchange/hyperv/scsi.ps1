# Hyper-V configuration of the VM "scsi-vm", written by Polyvisor.
# Run it on the Hyper-V host from the folder holding it and its disks:
#   powershell -ExecutionPolicy Bypass -File .\scsi-vm.ps1
$ErrorActionPreference = 'Stop'
$VMName = 'scsi-vm'
New-VM -Name $VMName -Generation 1 -MemoryStartupBytes 268435456 -NoVHD -Path $PSScriptRoot
Set-VMProcessor -VMName $VMName -Count 2
Set-VMMemory -VMName $VMName -DynamicMemoryEnabled $false
Remove-VMNetworkAdapter -VMName $VMName
Add-VMHardDiskDrive -VMName $VMName -ControllerType SCSI -ControllerNumber 0 -ControllerLocation 0 -Path "$PSScriptRoot\scsi-vm-root.vhdx"
Add-VMHardDiskDrive -VMName $VMName -ControllerType SCSI -ControllerNumber 0 -ControllerLocation 1 -Path "$PSScriptRoot\scsi-vm-data.vhdx"
# (no network adapters)
