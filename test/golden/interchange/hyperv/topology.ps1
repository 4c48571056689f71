# Hyper-V configuration of the VM "big", written by Polyvisor.
# Run it on the Hyper-V host from the folder holding it and its disks:
#   powershell -ExecutionPolicy Bypass -File .\big.ps1
$ErrorActionPreference = 'Stop'
$VMName = 'big'
New-VM -Name $VMName -Generation 1 -MemoryStartupBytes 17179869184 -NoVHD -Path $PSScriptRoot
Set-VMProcessor -VMName $VMName -Count 8
Set-VMMemory -VMName $VMName -DynamicMemoryEnabled $false
Remove-VMNetworkAdapter -VMName $VMName
Add-VMHardDiskDrive -VMName $VMName -ControllerType IDE -ControllerNumber 0 -ControllerLocation 0 -Path "$PSScriptRoot\big-root.vhdx"
# (no network adapters)
