# Hyper-V configuration of the VM "from-esxi", written by Polyvisor.
# Run it on the Hyper-V host from the folder holding it and its disks:
#   powershell -ExecutionPolicy Bypass -File .\from-esxi.ps1
$ErrorActionPreference = 'Stop'
$VMName = 'from-esxi'
New-VM -Name $VMName -Generation 1 -MemoryStartupBytes 268435456 -NoVHD -Path $PSScriptRoot
Set-VMProcessor -VMName $VMName -Count 2
Set-VMMemory -VMName $VMName -DynamicMemoryEnabled $false
Remove-VMNetworkAdapter -VMName $VMName
Add-VMHardDiskDrive -VMName $VMName -ControllerType SCSI -ControllerNumber 0 -ControllerLocation 0 -Path "$PSScriptRoot\from-esxi-root.vhdx"
Add-VMNetworkAdapter -VMName $VMName -Name 'net0' -StaticMacAddress '005056010203'
