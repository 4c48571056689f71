# Hyper-V configuration of the VM "win-sb", written by Polyvisor.
# Run it on the Hyper-V host from the folder holding it and its disks:
#   powershell -ExecutionPolicy Bypass -File .\win-sb.ps1
$ErrorActionPreference = 'Stop'
$VMName = 'win-sb'
New-VM -Name $VMName -Generation 2 -MemoryStartupBytes 4294967296 -NoVHD -Path $PSScriptRoot
Set-VMProcessor -VMName $VMName -Count 2
Set-VMMemory -VMName $VMName -DynamicMemoryEnabled $false
Set-VMFirmware -VMName $VMName -EnableSecureBoot On
Remove-VMNetworkAdapter -VMName $VMName
Add-VMHardDiskDrive -VMName $VMName -ControllerType SCSI -ControllerNumber 0 -ControllerLocation 0 -Path "$PSScriptRoot\win-sb-root.vhdx"
# (no network adapters)
