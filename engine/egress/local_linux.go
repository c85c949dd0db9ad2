//go:build linux

package egress

// systemLocalNets is where a Client learns this machine's networks: the
// kernel's routing tables.
func systemLocalNets() localNets { return routeTables(procNet) }
