# Hyper-V configuration of the VM "installer", written by Polyvisor.
# Run it on the Hyper-V host from the folder holding it and its disks:
#   powershell -ExecutionPolicy Bypass -File .\installer.ps1
$ErrorActionPreference = 'Stop'
$VMName = 'installer'
New-VM -Name $VMName -Generation 1 -MemoryStartupBytes 1073741824 -NoVHD -Path $PSScriptRoot
Set-VMProcessor -VMName $VMName -Count 1
Set-VMMemory -VMName $VMName -DynamicMemoryEnabled $false
Remove-VMNetworkAdapter -VMName $VMName
Add-VMHardDiskDrive -VMName $VMName -ControllerType IDE -ControllerNumber 0 -ControllerLocation 0 -Path "$PSScriptRoot\installer-root.vhdx"
Add-VMDvdDrive -VMName $VMName -ControllerNumber 0 -ControllerLocation 1 -Path '/var/lib/polyvisor/isos/debian-12.iso'
# (no network adapters)
