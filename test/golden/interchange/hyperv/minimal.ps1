# Hyper-V configuration of the VM "minimal", written by Polyvisor.
# Run it on the Hyper-V host from the folder holding it and its disks:
#   powershell -ExecutionPolicy Bypass -File .\minimal.ps1
$ErrorActionPreference = 'Stop'
$VMName = 'minimal'
New-VM -Name $VMName -Generation 1 -MemoryStartupBytes 268435456 -NoVHD -Path $PSScriptRoot
Set-VMProcessor -VMName $VMName -Count 1
Set-VMMemory -VMName $VMName -DynamicMemoryEnabled $false
Remove-VMNetworkAdapter -VMName $VMName
Add-VMHardDiskDrive -VMName $VMName -ControllerType IDE -ControllerNumber 0 -ControllerLocation 0 -Path "$PSScriptRoot\minimal-root.vhdx"
# (no network adapters)
