# Hyper-V configuration of the VM "sata-vm", written by Polyvisor.
# Run it on the Hyper-V host from the folder holding it and its disks:
#   powershell -ExecutionPolicy Bypass -File .\sata-vm.ps1
$ErrorActionPreference = 'Stop'
$VMName = 'sata-vm'
New-VM -Name $VMName -Generation 1 -MemoryStartupBytes 268435456 -NoVHD -Path $PSScriptRoot
Set-VMProcessor -VMName $VMName -Count 1
Set-VMMemory -VMName $VMName -DynamicMemoryEnabled $false
Remove-VMNetworkAdapter -VMName $VMName
Add-VMHardDiskDrive -VMName $VMName -ControllerType IDE -ControllerNumber 0 -ControllerLocation 0 -Path "$PSScriptRoot\sata-vm-root.vhdx"
Add-VMHardDiskDrive -VMName $VMName -ControllerType IDE -ControllerNumber 0 -ControllerLocation 1 -Path "$PSScriptRoot\sata-vm-data.vhdx"
Add-VMNetworkAdapter -VMName $VMName -Name 'net0' -StaticMacAddress '52540000BEEF'
