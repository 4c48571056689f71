# Hyper-V configuration of the VM "router", written by Polyvisor.
# Run it on the Hyper-V host from the folder holding it and its disks:
#   powershell -ExecutionPolicy Bypass -File .\router.ps1
$ErrorActionPreference = 'Stop'
$VMName = 'router'
New-VM -Name $VMName -Generation 1 -MemoryStartupBytes 268435456 -NoVHD -Path $PSScriptRoot
Set-VMProcessor -VMName $VMName -Count 1
Set-VMMemory -VMName $VMName -DynamicMemoryEnabled $false
Remove-VMNetworkAdapter -VMName $VMName
Add-VMHardDiskDrive -VMName $VMName -ControllerType IDE -ControllerNumber 0 -ControllerLocation 0 -Path "$PSScriptRoot\router-root.vhdx"
Add-VMNetworkAdapter -VMName $VMName -Name 'wan' -StaticMacAddress '525400AA0001'
Add-VMNetworkAdapter -VMName $VMName -Name 'lan' -StaticMacAddress '525400AA0002'
