package qrtoken

// Internal parsers exposed to the external test package for fuzzing.

// ParseKeyListContent parses the content map of a key-list document.
func ParseKeyListContent(b []byte) error {
	_, err := parseKeyListContent(b)
	return err
}

// ParseStatusListContent parses the content map of a status-list document.
func ParseStatusListContent(b []byte) error {
	_, err := parseStatusListContent(b)
	return err
}

// EncodeClaims returns the claims map encoding of c.
func EncodeClaims(c *Claims) ([]byte, error) { return encodeClaims(c) }

// RawClaims returns the claims byte string of t as received.
func (t *Token) RawClaims() []byte { return t.rawClaims }
