#!/usr/bin/env python3
"""Manual proofs for the Polyvisor test guest (python3 stdlib only).

    guest/prove.py [--dir GUEST_DIR] [TEST ...]

GUEST_DIR defaults to the last line printed by guest/build.sh. TESTs default to
all of them; see TESTS at the bottom. Every QEMU started here is killed by PID
when its test ends. Output: one "PASS name: details" / "FAIL name: details"
line per test, then "N passed, N failed".
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
READY = b"POLYVISOR-GUEST-READY"
POWEROFF = b"POLYVISOR-GUEST-POWEROFF"
OVMF_CODE = "/usr/share/OVMF/OVMF_CODE.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS.fd"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Line:
    """Newline-delimited JSON over a unix socket (QMP and qemu-ga)."""

    def __init__(self, path, timeout=10):
        deadline = time.time() + timeout
        while True:
            try:
                self.s = socket.socket(socket.AF_UNIX)
                self.s.connect(path)
                break
            except OSError:
                self.s.close()
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        self.buf = b""

    def send(self, obj):
        self.s.sendall(json.dumps(obj).encode() + b"\n")

    def recv(self, timeout=10):
        self.s.settimeout(timeout)
        while b"\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("socket closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        # qemu-ga may emit 0xff sync bytes; drop anything before '{'
        line = line[line.find(b"{"):] if b"{" in line else line
        return json.loads(line)

    def close(self):
        self.s.close()


class QMP(Line):
    def __init__(self, path):
        super().__init__(path)
        self.events = []
        self.recv()  # greeting
        self.execute("qmp_capabilities")

    def execute(self, cmd, args=None, timeout=10):
        msg = {"execute": cmd}
        if args:
            msg["arguments"] = args
        self.send(msg)
        while True:
            r = self.recv(timeout)
            if "event" in r:
                self.events.append(r)
                continue
            if "error" in r:
                raise RuntimeError(f"{cmd}: {r['error']}")
            return r["return"]


class QGA(Line):
    def execute(self, cmd, args=None, timeout=10, expect_reply=True):
        msg = {"execute": cmd}
        if args:
            msg["arguments"] = args
        self.send(msg)
        if not expect_reply:
            return None
        r = self.recv(timeout)
        if "error" in r:
            raise RuntimeError(f"{cmd}: {r['error']}")
        return r["return"]

    def sync(self, timeout=10):
        n = int(time.time() * 1000) % 2**31
        self.send({"execute": "guest-sync", "arguments": {"id": n}})
        while True:
            r = self.recv(timeout)
            if r.get("return") == n:
                return


class VM:
    def __init__(self, guest, boot="direct", append=None, mem=256, extra=(), qga=False, nic=None):
        self.tmp = tempfile.mkdtemp(prefix="pvprove-")
        self.serial_path = os.path.join(self.tmp, "serial.sock")
        self.qmp_path = os.path.join(self.tmp, "qmp.sock")
        self.qga_path = os.path.join(self.tmp, "qga.sock")
        manifest = json.load(open(os.path.join(guest, "manifest.json")))
        cmd = ["qemu-system-x86_64", "-accel", "tcg", "-nodefaults", "-nographic", "-m", str(mem),
               "-chardev", f"socket,id=ser0,path={self.serial_path},server=on,wait=on",
               "-serial", "chardev:ser0",
               "-qmp", f"unix:{self.qmp_path},server=on,wait=off"]
        if boot == "direct":
            cmd += ["-kernel", os.path.join(guest, "vmlinuz"), "-initrd", os.path.join(guest, "initrd.img"),
                    "-append", append or manifest["cmdline"]]
        else:
            disk = os.path.join(guest, "disk.raw")
            cmd += ["-drive", f"file={disk},format=raw,if=virtio,readonly=on"]
            if boot == "uefi":
                vars_copy = os.path.join(self.tmp, "OVMF_VARS.fd")
                shutil.copy(OVMF_VARS, vars_copy)
                cmd += ["-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={OVMF_CODE}",
                        "-drive", f"if=pflash,format=raw,unit=1,file={vars_copy}"]
        if qga:
            cmd += ["-device", "virtio-serial-pci",
                    "-chardev", f"socket,path={self.qga_path},server=on,wait=off,id=qga0",
                    "-device", "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0"]
        if nic:
            cmd += ["-nic", nic]
        cmd += list(extra)
        self.cmd = cmd
        self.out = b""
        self.lock = threading.Lock()
        self.t0 = time.time()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.ser = None
        deadline = time.time() + 10
        while self.ser is None:
            try:
                s = socket.socket(socket.AF_UNIX)
                s.connect(self.serial_path)
                self.ser = s
            except OSError:
                s.close()
                if time.time() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("qemu did not start: " + self.proc.stdout.read().decode(errors="replace"))
                time.sleep(0.02)
        # t0 stays the spawn time: boot timings include QEMU start-up
        threading.Thread(target=self._reader, daemon=True).start()
        self.qmp = QMP(self.qmp_path)

    def _reader(self):
        while True:
            try:
                chunk = self.ser.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            with self.lock:
                self.out += chunk

    def pos(self):
        with self.lock:
            return len(self.out)

    def wait_for(self, pattern, timeout=60, start=0):
        """Wait for bytes/regex in serial output after offset start; returns (match_end, seconds since t0)."""
        deadline = time.time() + timeout
        rx = re.compile(pattern if isinstance(pattern, bytes) else pattern.encode())
        while time.time() < deadline:
            with self.lock:
                m = rx.search(self.out, start)
            if m:
                return m.end(), time.time() - self.t0
            if self.proc.poll() is not None:
                with self.lock:
                    m = rx.search(self.out, start)
                if m:
                    return m.end(), time.time() - self.t0
                break
            time.sleep(0.01)
        raise TimeoutError(f"{pattern!r} not seen; serial tail: {self.out[-600:]!r}")

    def type(self, text):
        self.ser.sendall(text.encode())

    def wait_exit(self, timeout=30):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()  # by PID: our own child
            self.proc.wait()
        for c in (self.ser, getattr(self, "qmp", None)):
            try:
                c and c.close()
            except Exception:
                pass
        shutil.rmtree(self.tmp, ignore_errors=True)


def ready_line_ok(vm, end):
    """READY must be alone on its line."""
    with vm.lock:
        line_start = vm.out.rfind(b"\n", 0, end) + 1
        line_end = vm.out.find(b"\n", end)
        line = vm.out[line_start:line_end if line_end >= 0 else None].strip(b"\r")
    return line == READY


# ---------------------------------------------------------------- tests ------

def t_direct_boot(g):
    times = []
    for _ in range(3):
        vm = VM(g)
        try:
            end, t = vm.wait_for(READY, 60)
            assert ready_line_ok(vm, end), "READY not on its own line"
            times.append(t)
        finally:
            vm.kill()
    return "READY after " + ", ".join(f"{t:.2f}s" for t in times)


def t_bios_disk(g):
    vm = VM(g, boot="bios")
    try:
        end, t = vm.wait_for(READY, 90)
        assert ready_line_ok(vm, end), "READY not on its own line"
        return f"SeaBIOS + syslinux from disk.raw: READY after {t:.2f}s"
    finally:
        vm.kill()


def t_uefi_disk(g):
    vm = VM(g, boot="uefi")
    try:
        end, t = vm.wait_for(READY, 120)
        assert ready_line_ok(vm, end), "READY not on its own line"
        return f"OVMF + UKI \\EFI\\BOOT\\BOOTX64.EFI: READY after {t:.2f}s"
    finally:
        vm.kill()


def t_shell_echo(g):
    vm = VM(g)
    try:
        p, t_ready = vm.wait_for(READY)
        p, _ = vm.wait_for(b"guest# ", 30, p)
        t = time.time()
        vm.type("echo hello; echo $((6*7)); hostname\n")
        p, _ = vm.wait_for(rb"\nhello\r?\n42\r?\nguest\r?\n", 20, p)
        vm.type("ls /dev/vda /dev/ttyS0 2>&1 | head -3; cat /etc/polyvisor/release | head -2\n")
        p, _ = vm.wait_for(rb"kernel=\S+", 20, p)
        t_echo = time.time() - t
        return f"READY {t_ready:.2f}s; typed 'echo hello' and read back 'hello' ({t_echo * 1000:.0f} ms incl. 2 more commands)"
    finally:
        vm.kill()


def t_powerdown(g, boot="direct"):
    vm = VM(g, boot=boot)
    try:
        vm.wait_for(READY, 120)
        time.sleep(0.5)
        t = time.time()
        vm.qmp.execute("system_powerdown")
        vm.wait_for(rb"\n" + POWEROFF + rb"\r?\n", 30)  # on a line of its own
        rc = vm.wait_exit(30)
        assert rc == 0, f"qemu exit code {rc}"
        return f"{boot}: POWEROFF line printed and QEMU exited 0 {time.time() - t:.2f}s after system_powerdown"
    finally:
        vm.kill()


def t_powerdown_uefi(g):
    return t_powerdown(g, "uefi")


def t_reboot_and_reset(g, boot="direct"):
    vm = VM(g, boot=boot)
    try:
        p, _ = vm.wait_for(READY, 120)
        p, _ = vm.wait_for(b"guest# ", 30, p)
        t = time.time()
        vm.type("reboot\n")
        p, _ = vm.wait_for(READY, 120, p)
        t_reboot = time.time() - t
        p, _ = vm.wait_for(b"guest# ", 30, p)
        t = time.time()
        vm.qmp.execute("system_reset")
        p, _ = vm.wait_for(READY, 120, p)
        t_reset = time.time() - t
        p, _ = vm.wait_for(b"guest# ", 30, p)
        vm.type("echo again\n")
        vm.wait_for(rb"\nagain\r?\n", 20, p)
        with vm.lock:
            n = vm.out.count(READY)
        assert n == 3, f"expected 3 READY lines, saw {n}"
        return f"{boot}: shell reboot -> READY in {t_reboot:.2f}s; system_reset -> READY in {t_reset:.2f}s; 3 READY lines"
    finally:
        vm.kill()


def t_reboot_uefi(g):
    return t_reboot_and_reset(g, "uefi")


def t_guest_agent(g):
    vm = VM(g, qga=True)
    try:
        vm.wait_for(READY)
        qga = QGA(vm.qga_path)
        qga.sync()
        t = time.time()
        qga.execute("guest-ping")
        ping_ms = (time.time() - t) * 1000
        gt = qga.execute("guest-get-time")
        skew = abs(gt / 1e9 - time.time())
        info = qga.execute("guest-info")
        status = qga.execute("guest-fsfreeze-status")
        frozen = qga.execute("guest-fsfreeze-freeze")
        thawed = qga.execute("guest-fsfreeze-thaw")
        osinfo = qga.execute("guest-get-osinfo")
        qga.execute("guest-shutdown", expect_reply=False)
        vm.wait_for(POWEROFF, 30)
        rc = vm.wait_exit(30)
        assert rc == 0, f"qemu exit code {rc}"
        return (f"qemu-ga {info['version']}: guest-ping {ping_ms:.0f} ms, guest-get-time skew {skew:.2f}s, "
                f"fsfreeze status={status} freeze={frozen} thaw={thawed}, osinfo id={osinfo.get('id')}, "
                f"guest-shutdown -> POWEROFF + exit 0")
    finally:
        vm.kill()


def t_network(g, extra_args=""):
    port = free_port()
    vm = VM(g, append="console=ttyS0,115200 panic=-1 quiet pv.name=webby" + extra_args,
            nic=f"user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:{port}-:80")
    try:
        vm.wait_for(READY)
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=20).read().decode().strip()
        assert body == "polyvisor-guest webby", body
        return f"GET http://127.0.0.1:{port}/ -> {body!r}"
    finally:
        vm.kill()


def t_network_dhcp(g):
    return t_network(g, " pv.net=dhcp") + " (pv.net=dhcp)"


def t_memtest(g):
    vm = VM(g, mem=512, append="console=ttyS0,115200 panic=-1 quiet pv.memtest=128:20")
    try:
        p, t_ready = vm.wait_for(READY)
        hb = re.compile(rb"\nMEMTEST hb=(\d+) sweeps=(\d+) written_mb=(\d+) bad=(\d+) rate_mbps=(\d+)\r?\n")
        p, _ = vm.wait_for(rb"MEMTEST hb=8 [^\n]*\n", 60, p)
        with vm.lock:
            lines = hb.findall(vm.out)
        assert lines, "no heartbeat"
        assert vm.out.index(READY) < vm.out.index(b"MEMTEST"), "memtest output before READY"
        bad = int(lines[-1][3])
        rates = [int(x[4]) for x in lines[1:]]
        sweeps = int(lines[-1][1])
        assert bad == 0, f"bad={bad}"
        assert all(15 <= r <= 25 for r in rates), f"rates {rates}"
        assert sweeps >= int(lines[-1][0]), f"sweeps {sweeps} < heartbeats"
        # the shell stays usable while memtest runs
        vm.type("echo alive\n")
        vm.wait_for(rb"\nalive\r?\n", 30, p)
        return (f"{len(lines)} heartbeats, last: {lines[-1][0].decode()} hb, {sweeps} sweeps, "
                f"{lines[-1][2].decode()} MB written, bad=0, rate_mbps={rates}; shell responsive")
    finally:
        vm.kill()


def t_memtest_detects(g):
    """Corrupt a page from outside the memtest (through /dev/mem is not possible
    here), so use memtest's own -i self-test hook from the shell instead."""
    vm = VM(g, mem=512)
    try:
        p, _ = vm.wait_for(READY)
        p, _ = vm.wait_for(b"guest# ", 30, p)
        vm.type("memtest -i 123 -o /dev/ttyS0 32:5 & sleep 5; kill %1\n")
        p2, _ = vm.wait_for(rb"\nMEMTEST BAD page=123 expected_gen=\d+ found=[0-9a-f]{16}\r?\n", 60, p)
        p3, _ = vm.wait_for(rb"MEMTEST hb=\d+ sweeps=\d+ written_mb=\d+ bad=1 rate_mbps=\d+", 30, p2)
        return "injected corruption reported as 'MEMTEST BAD page=123 ...' and bad=1"
    finally:
        vm.kill()


def t_fwcfg_args(g):
    port = free_port()
    vm = VM(g, boot="bios", nic=f"user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:{port}-:80",
            extra=["-fw_cfg", "name=opt/polyvisor/cmdline,string=pv.name=fromfwcfg"])
    try:
        vm.wait_for(READY, 90)
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=20).read().decode().strip()
        assert body == "polyvisor-guest fromfwcfg", body
        return f"disk boot + -fw_cfg opt/polyvisor/cmdline -> {body!r}"
    finally:
        vm.kill()


def t_disks(g):
    tmp = tempfile.mkdtemp(prefix="pvprove-")
    try:
        data = os.path.join(tmp, "data.raw")
        with open(data, "wb") as f:
            f.write(b"POLYVISOR-DISK-MAGIC\n" + b"\0" * (1024 * 1024 - 21))
        iso_dir = os.path.join(tmp, "iso")
        os.mkdir(iso_dir)
        open(os.path.join(iso_dir, "meta-data"), "w").write("instance-id: pv\n")
        iso = os.path.join(tmp, "seed.iso")
        subprocess.run(["xorriso", "-as", "mkisofs", "-quiet", "-V", "cidata", "-J", "-r", "-o", iso, iso_dir],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        vm = VM(g, append="console=ttyS0,115200 panic=-1 quiet pv.disktest=1",
                extra=["-drive", f"file={data},format=raw,if=virtio",
                       "-drive", f"file={iso},format=raw,media=cdrom,if=ide"])
        try:
            p, _ = vm.wait_for(READY)
            p, _ = vm.wait_for(b"guest# ", 30, p)
            vm.type("dd if=/dev/vda bs=21 count=1 2>/dev/null; mkdir -p /mnt && mount -t iso9660 -o ro /dev/sr0 /mnt && cat /mnt/meta-data\n")
            p, _ = vm.wait_for(rb"\nPOLYVISOR-DISK-MAGIC\r?\ninstance-id: pv\r?\n", 30, p)
            return "dd from /dev/vda read the magic; IDE CD-ROM /dev/sr0 mounted as iso9660"
        finally:
            vm.kill()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def t_timings(g):
    """Boot-to-READY wall time (from spawning QEMU) for each boot mode."""
    out = []
    for boot, n in (("direct", 5), ("bios", 3), ("uefi", 3)):
        times = []
        for _ in range(n):
            vm = VM(g, boot=boot)
            try:
                times.append(vm.wait_for(READY, 120)[1])
            finally:
                vm.kill()
        times.sort()
        out.append(f"{boot} min {times[0]:.2f}s median {times[len(times) // 2]:.2f}s max {times[-1]:.2f}s")
    return "; ".join(out)


def t_q35_scsi_cd(g):
    """q35 (its SATA/AHCI is not supported by the cloud kernel): CD on virtio-scsi."""
    tmp = tempfile.mkdtemp(prefix="pvprove-")
    try:
        iso_dir = os.path.join(tmp, "iso")
        os.mkdir(iso_dir)
        open(os.path.join(iso_dir, "user-data"), "w").write("#cloud-config\n")
        iso = os.path.join(tmp, "seed.iso")
        subprocess.run(["xorriso", "-as", "mkisofs", "-quiet", "-V", "cidata", "-J", "-r", "-o", iso, iso_dir],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        vm = VM(g, extra=["-machine", "q35", "-device", "virtio-scsi-pci,id=scsi0",
                          "-drive", f"file={iso},format=raw,if=none,id=cd0,media=cdrom,readonly=on",
                          "-device", "scsi-cd,drive=cd0"])
        try:
            p, t = vm.wait_for(READY)
            p, _ = vm.wait_for(b"guest# ", 30, p)
            vm.type("mount -t iso9660 /dev/sr0 /mnt && ls /mnt\n")
            vm.wait_for(rb"\nuser-data\r?\n", 30, p)
            return f"q35 READY after {t:.2f}s; virtio-scsi CD mounted"
        finally:
            vm.kill()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


TESTS = {
    "direct": t_direct_boot,
    "bios": t_bios_disk,
    "uefi": t_uefi_disk,
    "shell": t_shell_echo,
    "powerdown": t_powerdown,
    "powerdown-uefi": t_powerdown_uefi,
    "reboot": t_reboot_and_reset,
    "reboot-uefi": t_reboot_uefi,
    "qga": t_guest_agent,
    "network": t_network,
    "network-dhcp": t_network_dhcp,
    "memtest": t_memtest,
    "memtest-detects": t_memtest_detects,
    "fwcfg": t_fwcfg_args,
    "disks": t_disks,
    "q35": t_q35_scsi_cd,
    "timings": t_timings,
}


def main():
    args = sys.argv[1:]
    guest = None
    if args[:1] == ["--dir"]:
        guest, args = args[1], args[2:]
    if guest is None:
        out = subprocess.run([os.path.join(HERE, "build.sh")], check=True, stdout=subprocess.PIPE).stdout
        guest = out.decode().strip().splitlines()[-1]
    names = args or list(TESTS)
    passed = failed = 0
    for name in names:
        t = time.time()
        try:
            detail = TESTS[name](guest)
            passed += 1
            print(f"PASS {name} ({time.time() - t:.1f}s): {detail}", flush=True)
        except Exception as e:  # noqa: BLE001
            failed += 1
            print(f"FAIL {name} ({time.time() - t:.1f}s): {type(e).__name__}: {e}", flush=True)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
