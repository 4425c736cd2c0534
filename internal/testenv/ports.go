package testenv

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
)

// Ports for servers a test starts on a port it chose (a manager binary's flags, a receiver).
// Asking the kernel for port 0 and closing it hands out a port from the ephemeral range,
// where any outgoing connection of a parallel test process may take it before the server
// binds it ("address already in use", seen in the e2e suites). FreePort picks below that
// range, at random, and checks that nothing listens there.
const (
	portLow  = 20000
	portHigh = 32000 // Linux's default ephemeral range starts at 32768
)

// FreePort returns a loopback TCP port outside the ephemeral range that is free now.
func FreePort() (int, error) {
	for range 100 {
		p := portLow + rand.IntN(portHigh-portLow)
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		if err := l.Close(); err != nil {
			return 0, err
		}
		return p, nil
	}
	return 0, fmt.Errorf("no free port in %d-%d", portLow, portHigh)
}

// MustFreePort is FreePort for test setup code; it exits the process when there is none.
func MustFreePort() int {
	p, err := FreePort()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	return p
}
