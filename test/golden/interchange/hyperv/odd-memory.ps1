# Hyper-V configuration of the VM "odd", written by Polyvisor.
# Run it on the Hyper-V host from the folder holding it and its disks:
#   powershell -ExecutionPolicy Bypass -File .\odd.ps1
$ErrorActionPreference = 'Stop'
$VMName = 'odd'
New-VM -Name $VMName -Generation 1 -MemoryStartupBytes 1612709888 -NoVHD -Path $PSScriptRoot
Set-VMProcessor -VMName $VMName -Count 1
Set-VMMemory -VMName $VMName -DynamicMemoryEnabled $false
Remove-VMNetworkAdapter -VMName $VMName
Add-VMHardDiskDrive -VMName $VMName -ControllerType IDE -ControllerNumber 0 -ControllerLocation 0 -Path "$PSScriptRoot\odd-root.vhdx"
# (no network adapters)
