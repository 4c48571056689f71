# Hyper-V configuration of the VM "legacy", written by Polyvisor.
# Run it on the Hyper-V host from the folder holding it and its disks:
#   powershell -ExecutionPolicy Bypass -File .\legacy.ps1
$ErrorActionPreference = 'Stop'
$VMName = 'legacy'
New-VM -Name $VMName -Generation 1 -MemoryStartupBytes 268435456 -NoVHD -Path $PSScriptRoot
Set-VMProcessor -VMName $VMName -Count 1
Set-VMMemory -VMName $VMName -DynamicMemoryEnabled $false
Remove-VMNetworkAdapter -VMName $VMName
Add-VMHardDiskDrive -VMName $VMName -ControllerType IDE -ControllerNumber 0 -ControllerLocation 0 -Path "$PSScriptRoot\legacy-root.vhdx"
Add-VMDvdDrive -VMName $VMName -ControllerNumber 0 -ControllerLocation 1 -Path '/var/lib/polyvisor/isos/debian-12.iso'
Add-VMNetworkAdapter -VMName $VMName -Name 'net0'
