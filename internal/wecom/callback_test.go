package wecom

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/onsi/gomega/format"
)

// The official vectors of reference §13: DOC-91144 举例说明 and Tencent's callback/Sample.py.
const (
	vecToken    = "QDG6eK"
	vecAESKey   = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
	vecCorpID   = "wx5823bf96d3bd56c7"
	vecEchostr  = "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="
	vecEncrypt  = "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q=="
	vecPostText = "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>\n<FromUserName><![CDATA[mycreate]]></FromUserName>\n<CreateTime>1409659813</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[hello]]></Content>\n<MsgId>4561255354251345929</MsgId>\n<AgentID>218</AgentID>\n</xml>"

	vec2Token   = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"
	vec2AESKey  = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
	vec2CorpID  = "ww1436e0e65a779aee"
	vec2Echostr = "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA=="
	vec2Encrypt = "Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGzBhzTtRLNshw2AEew+kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+3JWcoD4Z5jaU0y9GSh010wsHF8KZD24YhmZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4iQHE7wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQDCWjayJOpcwocugux082f49HKYg84EpHSGXAyh+/oxwaWbvL6aSDPOYuPDGOCI8jmnKiypE+"
)

// vecPostBody is the POST of DOC-91144 as Sample.py shows it (AgentID in CDATA, a space
// after <xml>, newlines between elements).
const vecPostBody = "<xml> <ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><Encrypt><![CDATA[" + vecEncrypt + "]]></Encrypt>\n   <AgentID><![CDATA[218]]></AgentID>\n   </xml>"

const vec2PostBody = "<xml><ToUserName><![CDATA[ww1436e0e65a779aee]]></ToUserName>\n<Encrypt><![CDATA[" + vec2Encrypt + "]]></Encrypt>\n<AgentID><![CDATA[1000002]]></AgentID>\n</xml>"

func newVecCrypto(t testing.TB) *CallbackCrypto {
	t.Helper()
	c, err := NewCallbackCrypto(vecToken, vecAESKey, vecCorpID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// vecKey is the AES key of the first vector, decoded in the test without the code under
// test.
func vecKey(t testing.TB) []byte {
	t.Helper()
	k, err := base64.StdEncoding.DecodeString(vecAESKey + "=")
	if err != nil || len(k) != 32 {
		t.Fatalf("test key: %v (%d bytes)", err, len(k))
	}
	return k
}

// rawOpen decrypts a payload with key and IV = key[:16] and returns the padded plaintext.
func rawOpen(t testing.TB, key []byte, payload string) []byte {
	t.Helper()
	buf, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := aes.NewCipher(key)
	cipher.NewCBCDecrypter(block, key[:16]).CryptBlocks(buf, buf)
	return buf
}

// rawSeal encrypts a plaintext the test built itself (any padding, any length field),
// which must be a whole number of AES blocks.
func rawSeal(t testing.TB, key, plain []byte) string {
	t.Helper()
	block, _ := aes.NewCipher(key)
	buf := bytes.Clone(plain)
	cipher.NewCBCEncrypter(block, key[:16]).CryptBlocks(buf, buf)
	return base64.StdEncoding.EncodeToString(buf)
}

// pad20 is the correct pad after a 6-byte message and an 18-byte receiver id
// (16+4+6+18 = 44 bytes, padded to 64).
var pad20 = bytes.Repeat([]byte{20}, 20)

// rawPlain builds random ‖ len ‖ msg ‖ receiver and appends pad.
func rawPlain(msgLen uint32, msg, receiver string, pad []byte) []byte {
	b := append([]byte("0123456789abcdef"), binary.BigEndian.AppendUint32(nil, msgLen)...)
	b = append(b, msg...)
	b = append(b, receiver...)
	return append(b, pad...)
}

func TestCallbackOfficialVectors(t *testing.T) {
	c1 := newVecCrypto(t)
	c2, err := NewCallbackCrypto(vec2Token, vec2AESKey, vec2CorpID)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name                       string
		c                          *CallbackCrypto
		sig, ts, nonce, echo, body string
		want                       string
	}{
		{
			name: "DOC-91144 VerifyURL", c: c1,
			sig: "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3", ts: "1409659589", nonce: "263014780", echo: vecEchostr,
			want: "1616140317555161061",
		},
		{
			name: "DOC-91144 DecryptMsg", c: c1,
			sig: "477715d11cdb4164915debcba66cb864d751f3e6", ts: "1409659813", nonce: "1372623149", body: vecPostBody,
			want: vecPostText,
		},
		{
			name: "Sample.py VerifyURL", c: c2,
			sig: "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb", ts: "1476416373", nonce: "47744683", echo: vec2Echostr,
			want: "1288432023552776189",
		},
		{
			// Not listed in §13; Sample.py's DecryptMsg. It decrypts to the reply that the
			// same file then encrypts as its EncryptMsg example.
			name: "Sample.py DecryptMsg", c: c2,
			sig: "0c3914025cb4b4d68103f6bfc8db550f79dcf48e", ts: "1476422779", nonce: "1597212914", body: vec2PostBody,
			want: "<xml><ToUserName>ww1436e0e65a779aee</ToUserName><FromUserName>ChenJiaShun</FromUserName><CreateTime>1476422779</CreateTime><MsgType>text</MsgType><Content>你好</Content><MsgId>1456453720</MsgId><AgentID>1000002</AgentID></xml>",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []byte
			var err error
			payload := tc.echo
			if tc.body != "" {
				got, err = tc.c.DecryptMessage(tc.sig, tc.ts, tc.nonce, []byte(tc.body))
				env, _ := parseCallbackEnvelope([]byte(tc.body))
				payload = env.Encrypt
			} else {
				got, err = tc.c.VerifyURL(tc.sig, tc.ts, tc.nonce, tc.echo)
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if string(got) != tc.want {
				t.Fatalf("plaintext = %q, want %q", got, tc.want)
			}
			if s := tc.c.Signature(tc.ts, tc.nonce, payload); s != tc.sig {
				t.Fatalf("Signature = %s, want %s", s, tc.sig)
			}
		})
	}
}

// TestCallbackVectorPadding pins the two pads §13 names (7 on VerifyURL, 30 on the POST):
// a 16-byte-block unpad would reject the second.
func TestCallbackVectorPadding(t *testing.T) {
	key := vecKey(t)
	for payload, want := range map[string]byte{vecEchostr: 7, vecEncrypt: 30} {
		plain := rawOpen(t, key, payload)
		pad := plain[len(plain)-1]
		if pad != want || !bytes.Equal(plain[len(plain)-int(pad):], bytes.Repeat([]byte{pad}, int(pad))) {
			t.Errorf("payload of %d bytes ends in pad %d, want %d well-formed", len(plain), pad, want)
		}
		if !bytes.HasSuffix(plain[:len(plain)-int(pad)], []byte(vecCorpID)) {
			t.Errorf("payload does not end in the corp id before its pad")
		}
	}
}

// TestCallbackEncryptMatchesVector re-encrypts the official POST with its own random prefix:
// Encrypt must give WeCom's ciphertext byte for byte.
func TestCallbackEncryptMatchesVector(t *testing.T) {
	c := newVecCrypto(t)
	c.random = bytes.NewReader(rawOpen(t, vecKey(t), vecEncrypt)[:16])
	got, err := c.Encrypt([]byte(vecPostText))
	if err != nil {
		t.Fatal(err)
	}
	if got != vecEncrypt {
		t.Fatalf("Encrypt = %s\nwant      %s", got, vecEncrypt)
	}
}

func TestCallbackVerifyURLFromQuery(t *testing.T) {
	c := newVecCrypto(t)
	// The GET as Sample.py shows it, escaped as WeCom sends it, and with '+' left raw, which
	// form decoding turns into spaces.
	for _, rawQuery := range []string{
		"msg_signature=5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3&timestamp=1409659589&nonce=263014780&echostr=P9nAzCzyDtyTWESHep1vC5X9xho%2FqYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp%2B4RPcs8TgAE7OaBO%2BFZXvnaqQ%3D%3D",
		"msg_signature=5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3&timestamp=1409659589&nonce=263014780&echostr=P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==",
	} {
		q, err := url.ParseQuery(rawQuery)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.VerifyURL(q.Get("msg_signature"), q.Get("timestamp"), q.Get("nonce"), q.Get("echostr"))
		if err != nil || string(got) != "1616140317555161061" {
			t.Fatalf("VerifyURL(%s) = %q, %v", rawQuery, got, err)
		}
	}
}

func TestCallbackRoundTrip(t *testing.T) {
	c := newVecCrypto(t)
	// Lengths 0..80 give every pad value 1..32, including a full block when aligned.
	pads := map[int]bool{}
	for n := 0; n <= 80; n++ {
		msg := []byte(strings.Repeat("事", n/3) + strings.Repeat("x", n%3))
		ts, nonce := fmt.Sprint(1700000000+n), fmt.Sprint(n*7919)

		enc, err := c.Encrypt(msg)
		if err != nil {
			t.Fatal(err)
		}
		plain := rawOpen(t, vecKey(t), enc)
		if len(plain)%32 != 0 {
			t.Fatalf("len %d: padded plaintext of %d bytes, want a multiple of 32", n, len(plain))
		}
		pad := int(plain[len(plain)-1])
		if want := 32 - (20+len(msg)+len(vecCorpID))%32; pad != want {
			t.Fatalf("len %d: pad %d, want %d", len(msg), pad, want)
		}
		pads[pad] = true
		if got, err := c.VerifyURL(c.Signature(ts, nonce, enc), ts, nonce, enc); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("VerifyURL round trip of %q: %q, %v", msg, got, err)
		}

		reply, err := c.EncryptMessage(msg, ts, nonce)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := c.DecryptReply(reply); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("reply round trip of %q: %q, %v (%s)", msg, got, err, reply)
		}

		body, sig, err := c.EncryptDelivery(msg, 218, ts, nonce)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := c.DecryptMessage(sig, ts, nonce, body); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("delivery round trip of %q: %q, %v", msg, got, err)
		}
	}
	if len(pads) != 32 {
		t.Fatalf("round trips covered %d pad values, want all 32", len(pads))
	}
}

func TestCallbackEnvelopes(t *testing.T) {
	c := newVecCrypto(t)
	c.random = bytes.NewReader(make([]byte, 64))
	reply, err := c.EncryptMessage([]byte("<xml/>"), "1409659813", "n]]>x")
	if err != nil {
		t.Fatal(err)
	}
	env, err := parseCallbackEnvelope(reply)
	if err != nil || env.TimeStamp != "1409659813" || env.Nonce != "n]]>x" || env.MsgSignature != c.Signature("1409659813", "n]]>x", env.Encrypt) {
		t.Fatalf("reply envelope %s parsed as %+v, %v", reply, env, err)
	}
	if !bytes.HasPrefix(reply, []byte("<xml><Encrypt><![CDATA[")) {
		t.Fatalf("reply = %s, want the official <xml><Encrypt><![CDATA[… shape", reply)
	}

	for agent, want := range map[int64]string{218: "<AgentID><![CDATA[218]]></AgentID>", 0: ""} {
		body, _, err := c.EncryptDelivery([]byte("<xml/>"), agent, "1", "2")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(body, []byte("<xml><ToUserName><![CDATA["+vecCorpID+"]]></ToUserName>")) ||
			(want != "" && !bytes.Contains(body, []byte(want))) || (want == "" && bytes.Contains(body, []byte("AgentID"))) {
			t.Fatalf("delivery for agent %d = %s", agent, body)
		}
	}
}

func TestCallbackRejects(t *testing.T) {
	c := newVecCrypto(t)
	key := vecKey(t)
	const ts, nonce = "1409659813", "1372623149"
	const sig = "477715d11cdb4164915debcba66cb864d751f3e6"
	vecRaw, _ := base64.StdEncoding.DecodeString(vecEncrypt)
	signed := func(payload string) func() error {
		return func() error {
			_, err := c.VerifyURL(c.Signature(ts, nonce, payload), ts, nonce, payload)
			return err
		}
	}
	post := func(c *CallbackCrypto, sig, ts, nonce, body string) func() error {
		return func() error { _, err := c.DecryptMessage(sig, ts, nonce, []byte(body)); return err }
	}
	otherCorp, _ := NewCallbackCrypto(vecToken, vecAESKey, "ww0000000000000000")
	noCorp, _ := NewCallbackCrypto(vecToken, vecAESKey, "")
	otherToken, _ := NewCallbackCrypto("QDG6eL", vecAESKey, vecCorpID)
	otherKey, _ := NewCallbackCrypto(vecToken, "kWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", vecCorpID)
	otherCorpPayload := rawSeal(t, key, rawPlain(6, "<xml/>", "ww0000000000000000", pad20))

	for _, tc := range []struct {
		name string
		run  func() error
		want []error // any of these
	}{
		{"signature one hex digit off", post(c, "477715d11cdb4164915debcba66cb864d751f3e7", ts, nonce, vecPostBody), []error{ErrSignatureMismatch}},
		{"signature upper-case", post(c, strings.ToUpper(sig), ts, nonce, vecPostBody), []error{ErrSignatureMismatch}},
		{"signature empty", post(c, "", ts, nonce, vecPostBody), []error{ErrSignatureMismatch}},
		{"timestamp changed", post(c, sig, "1409659814", nonce, vecPostBody), []error{ErrSignatureMismatch}},
		{"nonce changed", post(c, sig, ts, "1372623148", vecPostBody), []error{ErrSignatureMismatch}},
		{"payload changed", post(c, sig, ts, nonce, strings.Replace(vecPostBody, "RypE", "RypF", 1)), []error{ErrSignatureMismatch}},
		{"wrong token", post(otherToken, sig, ts, nonce, vecPostBody), []error{ErrSignatureMismatch}},
		{"echostr signed as a delivery", func() error {
			_, err := c.VerifyURL(sig, ts, nonce, vecEchostr)
			return err
		}, []error{ErrSignatureMismatch}},
		{"wrong corp id", post(otherCorp, sig, ts, nonce, vecPostBody), []error{ErrReceiverMismatch}},
		{"empty receiver id expected", post(noCorp, sig, ts, nonce, vecPostBody), []error{ErrReceiverMismatch}},
		{"payload for another corp", signed(otherCorpPayload), []error{ErrReceiverMismatch}},
		{"wrong AES key", post(otherKey, sig, ts, nonce, vecPostBody), []error{ErrMalformed, ErrReceiverMismatch}},
		{"body not XML", post(c, sig, ts, nonce, "Encrypt="+vecEncrypt), []error{ErrMalformed}},
		{"body empty", post(c, sig, ts, nonce, ""), []error{ErrMalformed}},
		{"no Encrypt", post(c, sig, ts, nonce, "<xml><ToUserName>x</ToUserName></xml>"), []error{ErrMalformed}},
		{"not base64", signed("not_base64!"), []error{ErrMalformed}},
		{"base64 of garbage", signed(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xa5}, 64))), []error{ErrMalformed, ErrReceiverMismatch}},
		{"truncated by one AES block", signed(base64.StdEncoding.EncodeToString(vecRaw[:len(vecRaw)-16])), []error{ErrMalformed, ErrReceiverMismatch}},
		{"truncated by one pad block", signed(base64.StdEncoding.EncodeToString(vecRaw[:len(vecRaw)-32])), []error{ErrMalformed, ErrReceiverMismatch}},
		{"truncated mid-block", signed(base64.StdEncoding.EncodeToString(vecRaw[:len(vecRaw)-5])), []error{ErrMalformed}},
		{"one block only", signed(base64.StdEncoding.EncodeToString(vecRaw[:16])), []error{ErrMalformed}},
		{"empty payload", signed(""), []error{ErrMalformed}},
		{"pad 0", signed(rawSeal(t, key, rawPlain(6, "<xml/>", vecCorpID, make([]byte, 20)))), []error{ErrMalformed}},
		{"pad 33", signed(rawSeal(t, key, rawPlain(6, "<xml/>", vecCorpID, append(make([]byte, 19), 33)))), []error{ErrMalformed}},
		{"pad 255", signed(rawSeal(t, key, rawPlain(6, "<xml/>", vecCorpID, bytes.Repeat([]byte{255}, 20)))), []error{ErrMalformed}},
		{"pad eats the length field", signed(rawSeal(t, key, bytes.Repeat([]byte{30}, 32))), []error{ErrMalformed}},
		{"length field past the end", signed(rawSeal(t, key, rawPlain(1<<20, "<xml/>", vecCorpID, pad20))), []error{ErrMalformed}},
		{"length field max", signed(rawSeal(t, key, rawPlain(^uint32(0), "<xml/>", vecCorpID, pad20))), []error{ErrMalformed}},
		{"length field short", signed(rawSeal(t, key, rawPlain(5, "<xml/>", vecCorpID, pad20))), []error{ErrReceiverMismatch}},
		{"reply without signature", func() error {
			_, err := c.DecryptReply([]byte("<xml><Encrypt>" + vecEncrypt + "</Encrypt></xml>"))
			return err
		}, []error{ErrSignatureMismatch}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			for _, want := range tc.want {
				if errors.Is(err, want) {
					assertCallbackClean(t, "error", fmt.Sprintf("%v|%+v|%#v", err, err, err))
					return
				}
			}
			t.Fatalf("err = %v, want one of %v", err, tc.want)
		})
	}
}

// TestCallbackPadOnlyLastByteChecked documents the deliberate leniency: the other pad
// bytes are not checked, as in the official libraries.
func TestCallbackPadOnlyLastByteChecked(t *testing.T) {
	c := newVecCrypto(t)
	payload := rawSeal(t, vecKey(t), rawPlain(6, "<xml/>", vecCorpID, append(bytes.Repeat([]byte{9}, 19), 20)))
	got, err := c.VerifyURL(c.Signature("1", "2", payload), "1", "2", payload)
	if err != nil || string(got) != "<xml/>" {
		t.Fatalf("VerifyURL = %q, %v", got, err)
	}
}

func TestNewCallbackCryptoValidates(t *testing.T) {
	for _, tc := range []struct{ name, token, key string }{
		{"empty token", "", vecAESKey},
		{"token of 33", strings.Repeat("a", 33), vecAESKey},
		{"token with a dash", "QDG6-eK", vecAESKey},
		{"key of 42", vecToken, vecAESKey[:42]},
		{"key of 44", vecToken, vecAESKey + "A"},
		{"key with '+'", vecToken, "+" + vecAESKey[1:]},
		{"key with '='", vecToken, vecAESKey[:42] + "="},
		{"empty key", vecToken, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewCallbackCrypto(tc.token, tc.key, vecCorpID)
			if err == nil {
				t.Fatalf("NewCallbackCrypto accepted it: %v", c)
			}
			assertCallbackClean(t, "error", fmt.Sprintf("%v|%+v|%#v", err, err, err), tc.token, tc.key)
		})
	}
	if _, err := NewCallbackCrypto(strings.Repeat("a", 32), vecAESKey, ""); err != nil {
		t.Fatalf("32-char token, empty receiver: %v", err)
	}
}

func TestCallbackCryptoPrintsNoSecret(t *testing.T) {
	c := newVecCrypto(t)
	var b strings.Builder
	for _, v := range []any{c, *c} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%T"} {
			fmt.Fprintf(&b, verb+"|", v)
		}
		b.WriteString(format.Object(v, 0) + "|")
	}
	fmt.Fprintf(&b, "%+v|%#v|", struct{ C *CallbackCrypto }{c}, []*CallbackCrypto{c})
	out := b.String()
	assertCallbackClean(t, "formatted CallbackCrypto", out)
	if !strings.Contains(out, vecCorpID) {
		t.Fatalf("formatting should name the receiver: %s", out)
	}
}

// assertCallbackClean fails if s contains the first vector's token or key (as given,
// decoded, or in hex), or any of extra.
func assertCallbackClean(t *testing.T, what, s string, extra ...string) {
	t.Helper()
	key, _ := base64.StdEncoding.DecodeString(vecAESKey + "=")
	secrets := []string{vecToken, vecAESKey, vecAESKey[:20], string(key), hex.EncodeToString(key), hex.EncodeToString(key[:16]), fmt.Sprintf("%d", key[:16])}
	for _, sec := range append(secrets, extra...) {
		if sec != "" && strings.Contains(s, sec) {
			t.Fatalf("%s contains a secret %q: %s", what, sec, s)
		}
	}
}

// FuzzCallbackDecrypt feeds arbitrary bytes to every opening path. Signatures are made
// valid so that the fuzzer reaches base64, AES, unpadding and the length field: data is
// tried as a body, as a payload, and as a plaintext encrypted with the key (so padding and
// the length field are under the fuzzer's control). Nothing may panic, every failure must be
// one of the three typed errors, and whatever opens must survive a round trip.
func FuzzCallbackDecrypt(f *testing.F) {
	c := newVecCrypto(f)
	// A fixed prefix keeps each input's execution deterministic, which the fuzzer's
	// minimization relies on.
	c.random = zeroReader{}
	key := vecKey(f)
	for _, seed := range []string{
		vecPostBody, vecEchostr, vecEncrypt, vecPostText, "",
		"<xml><Encrypt>" + vecEncrypt + "</Encrypt></xml>",
		"<xml><Encrypt><![CDATA[]]></Encrypt></xml>",
		string(rawPlain(6, "<xml/>", vecCorpID, pad20)),
		string(rawPlain(^uint32(0), "", vecCorpID, []byte{32})),
		strings.Repeat("\x20", 64),
	} {
		f.Add([]byte(seed))
	}
	const ts, nonce = "1409659813", "1372623149"
	f.Fuzz(func(t *testing.T, data []byte) {
		check := func(path string, got []byte, err error) {
			if err != nil {
				if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrReceiverMismatch) && !errors.Is(err, ErrSignatureMismatch) {
					t.Fatalf("%s: untyped error %v", path, err)
				}
				return
			}
			enc, err := c.Encrypt(got)
			if err != nil {
				t.Fatal(err)
			}
			again, err := c.VerifyURL(c.Signature(ts, nonce, enc), ts, nonce, enc)
			if err != nil || !bytes.Equal(again, got) {
				t.Fatalf("%s: %q opened but does not round-trip: %q, %v", path, got, again, err)
			}
			_, _ = ParseCallbackEvent(got)
		}

		got, err := c.DecryptMessage("477715d11cdb4164915debcba66cb864d751f3e6", ts, nonce, data)
		check("body", got, err)
		if env, err := parseCallbackEnvelope(data); err == nil {
			got, err := c.DecryptMessage(c.Signature(ts, nonce, env.Encrypt), ts, nonce, data)
			check("signed body", got, err)
		}
		got, err = c.DecryptReply(data)
		check("reply", got, err)

		payload := string(data)
		got, err = c.VerifyURL(c.Signature(ts, nonce, payload), ts, nonce, payload)
		check("payload", got, err)

		if plain := data[:len(data)-len(data)%16]; len(plain) > 0 {
			payload := rawSeal(t, key, plain)
			got, err = c.VerifyURL(c.Signature(ts, nonce, payload), ts, nonce, payload)
			check("plaintext", got, err)
		}

		_, _ = ParseCallbackEvent(data)
	})
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
