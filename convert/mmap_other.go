//go:build !unix

package convert

import "os"

// mapFile reads the whole file where memory mapping is not available.
func mapFile(path string) ([]byte, func(), error) {
	b, err := os.ReadFile(path)
	return b, func() {}, err
}
