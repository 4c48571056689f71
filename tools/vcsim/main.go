// vcsim: VMware's vCenter simulator (govmomi's simulator package) as a
// program, for the vSphere driver's tests. Debian ships govmomi as a library
// only; scripts/vcsim-build.sh builds this file offline. It is a SIMULATOR:
// VMs have no guests, tasks finish at once.
//
// The login is VCSIM_USER / VCSIM_PASSWORD from the environment (never argv).
// Prints the SDK URL on stdout once it serves; writes the server's self-signed
// certificate (PEM) to -cert.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"fmt"
	"io/ioutil"
	"math/big"
	"net"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/vmware/govmomi/simulator"
	_ "github.com/vmware/govmomi/vapi/simulator"
)

func main() {
	listen := flag.String("l", "127.0.0.1:0", "listen address")
	hosts := flag.Int("host", 3, "hosts per cluster")
	vms := flag.Int("vm", 2, "VMs per resource pool (two pools: the standalone host's and the cluster's)")
	certFile := flag.String("cert", "", "write the server certificate (PEM) here")
	flag.Parse()

	model := simulator.VPX()
	model.ClusterHost = *hosts
	model.Machine = *vms
	if err := model.Create(); err != nil {
		fmt.Fprintln(os.Stderr, "vcsim:", err)
		os.Exit(1)
	}
	model.Service.RegisterEndpoints = true
	// A fresh P-256 self-signed certificate for 127.0.0.1: httptest's built-in
	// one is RSA-1024, which OpenSSL 3 refuses ("key too weak").
	cert, err := selfSigned()
	if err != nil {
		fmt.Fprintln(os.Stderr, "vcsim:", err)
		os.Exit(1)
	}
	model.Service.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	model.Service.Listen = &url.URL{Host: *listen}
	if u, p := os.Getenv("VCSIM_USER"), os.Getenv("VCSIM_PASSWORD"); u != "" && p != "" {
		model.Service.Listen.User = url.UserPassword(u, p)
	}
	s := model.Service.NewServer()
	if *certFile != "" {
		pemText := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})
		if err := ioutil.WriteFile(*certFile, pemText, 0600); err != nil {
			fmt.Fprintln(os.Stderr, "vcsim:", err)
			os.Exit(1)
		}
	}
	u := *s.URL
	u.User = nil
	fmt.Println(u.String())

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
	s.Close()
	model.Remove()
}

func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "vcsim", Organization: []string{"Polyvisor tests"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
