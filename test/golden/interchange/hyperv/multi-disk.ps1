# Hyper-V configuration of the VM "db", written by Polyvisor.
# Run it on the Hyper-V host from the folder holding it and its disks:
#   powershell -ExecutionPolicy Bypass -File .\db.ps1
$ErrorActionPreference = 'Stop'
$VMName = 'db'
New-VM -Name $VMName -Generation 1 -MemoryStartupBytes 4294967296 -NoVHD -Path $PSScriptRoot
Set-VMProcessor -VMName $VMName -Count 4
Set-VMMemory -VMName $VMName -DynamicMemoryEnabled $false
Remove-VMNetworkAdapter -VMName $VMName
Add-VMHardDiskDrive -VMName $VMName -ControllerType IDE -ControllerNumber 0 -ControllerLocation 0 -Path "$PSScriptRoot\db-root.vhdx"
Add-VMHardDiskDrive -VMName $VMName -ControllerType IDE -ControllerNumber 0 -ControllerLocation 1 -Path "$PSScriptRoot\db-data.vhdx"
Add-VMHardDiskDrive -VMName $VMName -ControllerType IDE -ControllerNumber 1 -ControllerLocation 0 -Path "$PSScriptRoot\db-logs.vhdx"
# (no network adapters)
