package signer

import "encoding/binary"

// hexPairs holds the two lower-case hex digits of every byte value, first
// digit in the low byte.
var hexPairs = func() (t [256]uint16) {
	const digits = "0123456789abcdef"
	for i := range t {
		t[i] = uint16(digits[i>>4]) | uint16(digits[i&15])<<8
	}
	return t
}()

// hexEncode writes the lower-case hex digits of src to dst, like
// encoding/hex.Encode but with one table look-up and one 16-bit store per
// byte (the seal makes /Contents some 32,000 digits long). dst must hold
// 2*len(src) bytes.
func hexEncode(dst, src []byte) {
	dst = dst[:2*len(src)]
	for i, b := range src {
		binary.LittleEndian.PutUint16(dst[2*i:], hexPairs[b])
	}
}
