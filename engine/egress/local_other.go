//go:build !linux

package egress

import (
	"fmt"
	"net"
	"net/netip"
)

// systemLocalNets is where a Client learns this machine's networks: its
// interface addresses, where there is no /proc to read routing tables from.
func systemLocalNets() localNets { return interfaceNets }

// interfaceNets lists the interface addresses of one family, each as a
// single-address network.
func interfaceNets(v6 bool) ([]netip.Prefix, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, fmt.Errorf("list the interface addresses: %w", err)
	}
	var out []netip.Prefix
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok && ip.Unmap().Is6() == v6 {
				ip = ip.Unmap()
				out = append(out, netip.PrefixFrom(ip, ip.BitLen()))
			}
		}
	}
	return out, nil
}
