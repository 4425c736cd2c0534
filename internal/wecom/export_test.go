package wecom

// Settle waits until no gettoken of the cache is in flight, for the tests of package
// wecom_test that move a clock past a background refresh.
func (c *TokenCache) Settle() { c.settle() }
