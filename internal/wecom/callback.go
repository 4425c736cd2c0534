package wecom

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha1" // msg_signature is SHA-1 by WeCom's definition (reference §13)
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// WeCom callbacks (reference §13) arrive signed and encrypted with WeCom's WXBizMsgCrypt
// scheme. This file is that scheme and nothing else: what an event means is in
// callback_event.go, and the HTTP endpoint lives outside this package.

// Errors from CallbackCrypto. Each is returned wrapped with a short constant reason; test
// with errors.Is. None of them carries the token, the key or decrypted content, so a
// handler may log them, and should answer the request without detail.
var (
	// ErrSignatureMismatch means msg_signature does not match the token, timestamp, nonce and
	// payload: the request was not sent by WeCom with this connection's token, or was altered.
	ErrSignatureMismatch = errors.New("wecom callback: signature mismatch")
	// ErrReceiverMismatch means the payload was encrypted for another receiver id (corp id):
	// signed with the right token, but meant for another corp or suite.
	ErrReceiverMismatch = errors.New("wecom callback: receiver id mismatch")
	// ErrMalformed means the request could not be parsed or decrypted: not XML, no Encrypt,
	// bad base64, a ciphertext of the wrong size, bad padding, or a bad length field.
	ErrMalformed = errors.New("wecom callback: malformed payload")
)

const (
	// callbackKeyLen is the length of an EncodingAESKey: 43 base64 characters, which with a
	// trailing "=" decode to a 32-byte AES-256 key.
	callbackKeyLen = 43
	// callbackTokenMaxLen is the longest Token the admin console accepts.
	callbackTokenMaxLen = 32
	// callbackPadBlock is WXBizMsgCrypt's PKCS#7 block size. It is 32, not AES's 16: a
	// stock 16-byte unpad rejects WeCom's payloads (the official POST vector ends in a
	// 30-byte pad).
	callbackPadBlock = 32
	// callbackRandomLen is the random prefix of every plaintext, which receivers ignore.
	callbackRandomLen = 16
)

// CallbackCrypto signs, verifies, encrypts and decrypts WeCom callback payloads for one
// callback configuration (Token, EncodingAESKey) and one receiver id. It is safe for
// concurrent use.
//
// The token and the key are held only inside closures: fmt and reflection-based dumpers
// (gomega, spew) print a func as its address, so no printer can show them. String,
// GoString and Format also print the receiver id only.
type CallbackCrypto struct {
	receiverID string
	// sign returns msg_signature for (timestamp, nonce, payload); it holds the token.
	sign func(timestamp, nonce, payload string) string
	// encrypter and decrypter return a fresh CBC mode with the key and IV; they hold the key.
	encrypter func() cipher.BlockMode
	decrypter func() cipher.BlockMode
	// random supplies the 16-byte plaintext prefix; crypto/rand unless a test sets it.
	random io.Reader
}

// NewCallbackCrypto returns the crypto for one callback configuration. token is the
// Token (1 to 32 letters or digits), encodingAESKey the EncodingAESKey (exactly 43 letters
// or digits), both as set in WeCom's admin console. receiverID is the id every payload must
// end with: the corp id for a corp's own apps and the contacts-sync callback, a suite id for
// third-party suites, "" for personal-subject third-party apps (reference §13). Errors name
// the rule broken, never the value.
func NewCallbackCrypto(token, encodingAESKey, receiverID string) (*CallbackCrypto, error) {
	if token == "" || len(token) > callbackTokenMaxLen || !isAlnum(token) {
		return nil, errors.New("wecom callback: Token must be 1 to 32 letters or digits")
	}
	if len(encodingAESKey) != callbackKeyLen || !isAlnum(encodingAESKey) {
		return nil, fmt.Errorf("wecom callback: EncodingAESKey must be exactly 43 letters or digits (got %d characters)", len(encodingAESKey))
	}
	// StdEncoding, not Strict: the official libraries ignore the unused low bits of the
	// last character, so any key the console generates must decode the same way here.
	key, err := base64.StdEncoding.DecodeString(encodingAESKey + "=")
	if err != nil || len(key) != 32 {
		return nil, errors.New("wecom callback: EncodingAESKey does not decode to a 32-byte key")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, errors.New("wecom callback: EncodingAESKey is not a usable AES key")
	}
	iv := slices.Clone(key[:aes.BlockSize])
	return &CallbackCrypto{
		receiverID: receiverID,
		sign: func(timestamp, nonce, payload string) string {
			return callbackSignature(token, timestamp, nonce, payload)
		},
		encrypter: func() cipher.BlockMode { return cipher.NewCBCEncrypter(block, iv) },
		decrypter: func() cipher.BlockMode { return cipher.NewCBCDecrypter(block, iv) },
		random:    rand.Reader,
	}, nil
}

// ReceiverID returns the receiver id (corp id) payloads are checked against.
func (c *CallbackCrypto) ReceiverID() string { return c.receiverID }

// String identifies the configuration by its receiver id only. Like GoString and Format it
// has a value receiver, so a CallbackCrypto prints no secret through a pointer or a value.
func (c CallbackCrypto) String() string {
	return "wecom.CallbackCrypto{receiver " + c.receiverID + "}"
}

// GoString hides the token and key from %#v.
func (c CallbackCrypto) GoString() string { return c.String() }

// Format writes String for every verb, so %+v and %x print no field either.
func (c CallbackCrypto) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

// Signature returns msg_signature for a payload: the lower-case hex SHA-1 of the token,
// timestamp, nonce and payload, sorted byte-wise and joined without separators. payload is
// the echostr of a URL verification or the Encrypt of a delivery.
func (c *CallbackCrypto) Signature(timestamp, nonce, payload string) string {
	return c.sign(timestamp, nonce, payload)
}

// verify compares signatures in constant time, so timing reveals nothing about the
// expected one.
func (c *CallbackCrypto) verify(signature, timestamp, nonce, payload string) error {
	want := c.sign(timestamp, nonce, payload)
	if subtle.ConstantTimeCompare([]byte(want), []byte(signature)) != 1 {
		return ErrSignatureMismatch
	}
	return nil
}

// VerifyURL answers WeCom's URL verification (GET with msg_signature, timestamp, nonce
// and echostr, all URL-decoded). It checks the signature over echostr, decrypts it and
// returns the plaintext, which the handler must send back within 1 s as the bare response
// body (no quotes, no newline).
func (c *CallbackCrypto) VerifyURL(signature, timestamp, nonce, echostr string) ([]byte, error) {
	// echostr is base64 and never contains a space; a space is a '+' that was decoded as
	// form data after the sender left it unescaped. The signature is still checked over the
	// restored string, so this accepts nothing WeCom did not sign.
	echostr = strings.ReplaceAll(echostr, " ", "+")
	if err := c.verify(signature, timestamp, nonce, echostr); err != nil {
		return nil, err
	}
	return c.open(echostr)
}

// callbackEnvelope is the body of a delivery (POST) and, with the other fields, of a
// passive reply. The official libraries read only Encrypt and do not check the root name.
type callbackEnvelope struct {
	ToUserName   string `xml:"ToUserName"`
	AgentID      string `xml:"AgentID"`
	Encrypt      string `xml:"Encrypt"`
	MsgSignature string `xml:"MsgSignature"`
	TimeStamp    string `xml:"TimeStamp"`
	Nonce        string `xml:"Nonce"`
}

func parseCallbackEnvelope(body []byte) (callbackEnvelope, error) {
	var env callbackEnvelope
	if err := xml.Unmarshal(body, &env); err != nil {
		return env, fmt.Errorf("%w: body is not XML", ErrMalformed)
	}
	if env.Encrypt == "" {
		return env, fmt.Errorf("%w: no Encrypt element", ErrMalformed)
	}
	return env, nil
}

// DecryptMessage opens a delivery: body is the POST body
// (<xml><ToUserName/><AgentID/><Encrypt/></xml>), the other arguments the URL-decoded query
// parameters. It checks the signature over Encrypt first, then decrypts and checks the
// receiver id, and returns the plaintext XML (see ParseCallbackEvent). The size of body is
// the caller's to limit.
func (c *CallbackCrypto) DecryptMessage(signature, timestamp, nonce string, body []byte) ([]byte, error) {
	env, err := parseCallbackEnvelope(body)
	if err != nil {
		return nil, err
	}
	if err := c.verify(signature, timestamp, nonce, env.Encrypt); err != nil {
		return nil, err
	}
	return c.open(env.Encrypt)
}

// DecryptReply opens a passive reply made by EncryptMessage: the signature, timestamp and
// nonce are taken from the body itself. The simulator uses it to read what a receiver
// answered.
func (c *CallbackCrypto) DecryptReply(body []byte) ([]byte, error) {
	env, err := parseCallbackEnvelope(body)
	if err != nil {
		return nil, err
	}
	if err := c.verify(env.MsgSignature, env.TimeStamp, env.Nonce, env.Encrypt); err != nil {
		return nil, err
	}
	return c.open(env.Encrypt)
}

// Encrypt returns the base64 ciphertext of msg: AES-256-CBC over
// random(16) ‖ uint32 big-endian len(msg) ‖ msg ‖ receiver id, padded with PKCS#7 to a
// multiple of 32 bytes. With Signature it builds a URL verification (as echostr) or any
// envelope.
func (c *CallbackCrypto) Encrypt(msg []byte) (string, error) {
	if uint64(len(msg)) > math.MaxUint32 {
		return "", errors.New("wecom callback: message too long to encrypt")
	}
	n := callbackRandomLen + 4 + len(msg) + len(c.receiverID)
	pad := callbackPadBlock - n%callbackPadBlock // 1..32: a full block when already aligned
	buf := make([]byte, callbackRandomLen, n+pad)
	if _, err := io.ReadFull(c.random, buf); err != nil {
		return "", fmt.Errorf("wecom callback: random prefix: %w", err)
	}
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(msg)))
	buf = append(buf, msg...)
	buf = append(buf, c.receiverID...)
	buf = append(buf, bytes.Repeat([]byte{byte(pad)}, pad)...)
	c.encrypter().CryptBlocks(buf, buf)
	return base64.StdEncoding.EncodeToString(buf), nil
}

// open decrypts a base64 payload and returns its message after checking the receiver id.
func (c *CallbackCrypto) open(payload string) ([]byte, error) {
	buf, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: payload is not base64", ErrMalformed)
	}
	if len(buf) < callbackPadBlock || len(buf)%aes.BlockSize != 0 {
		return nil, fmt.Errorf("%w: ciphertext of %d bytes is too short or not whole AES blocks", ErrMalformed, len(buf))
	}
	c.decrypter().CryptBlocks(buf, buf)
	// Only the last pad byte is checked, as the official libraries do: the signature
	// already authenticated the ciphertext, so a stricter check would add no safety and
	// could only reject something WeCom's own code accepts.
	pad := int(buf[len(buf)-1])
	if pad < 1 || pad > callbackPadBlock || pad > len(buf)-callbackRandomLen-4 {
		return nil, fmt.Errorf("%w: bad padding", ErrMalformed)
	}
	content := buf[callbackRandomLen : len(buf)-pad]
	msgLen := binary.BigEndian.Uint32(content[:4])
	if uint64(msgLen) > uint64(len(content)-4) {
		return nil, fmt.Errorf("%w: message length exceeds the payload", ErrMalformed)
	}
	msg := content[4 : 4+int(msgLen)]
	if !bytes.Equal(content[4+int(msgLen):], []byte(c.receiverID)) {
		return nil, ErrReceiverMismatch
	}
	return slices.Clip(msg), nil
}

// cdata marshals as a CDATA section, as WeCom writes string fields.
type cdata struct {
	Text string `xml:",cdata"`
}

// callbackReply is the passive reply envelope of the official EncryptMsg.
type callbackReply struct {
	XMLName      xml.Name `xml:"xml"`
	Encrypt      cdata    `xml:"Encrypt"`
	MsgSignature cdata    `xml:"MsgSignature"`
	TimeStamp    string   `xml:"TimeStamp"`
	Nonce        cdata    `xml:"Nonce"`
}

// EncryptMessage encrypts plaintext and returns the passive reply envelope
// <xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml> that the official EncryptMsg
// builds, signed over its own timestamp and nonce.
func (c *CallbackCrypto) EncryptMessage(plaintext []byte, timestamp, nonce string) ([]byte, error) {
	enc, err := c.Encrypt(plaintext)
	if err != nil {
		return nil, err
	}
	return xml.Marshal(callbackReply{
		Encrypt:      cdata{enc},
		MsgSignature: cdata{c.sign(timestamp, nonce, enc)},
		TimeStamp:    timestamp,
		Nonce:        cdata{nonce},
	})
}

// callbackDelivery is the POST body WeCom delivers.
type callbackDelivery struct {
	XMLName    xml.Name `xml:"xml"`
	ToUserName cdata    `xml:"ToUserName"`
	AgentID    *cdata   `xml:"AgentID,omitempty"`
	Encrypt    cdata    `xml:"Encrypt"`
}

// EncryptDelivery builds a delivery as WeCom sends it: the POST body
// <xml><ToUserName/><AgentID/><Encrypt/></xml> (ToUserName = the receiver id; AgentID is
// left out when agentID is 0, as for the contacts-sync callback) and the msg_signature
// that goes into the query beside timestamp and nonce. The simulator pushes events with it.
func (c *CallbackCrypto) EncryptDelivery(plaintext []byte, agentID int64, timestamp, nonce string) (body []byte, signature string, err error) {
	enc, err := c.Encrypt(plaintext)
	if err != nil {
		return nil, "", err
	}
	d := callbackDelivery{ToUserName: cdata{c.receiverID}, Encrypt: cdata{enc}}
	if agentID != 0 {
		d.AgentID = &cdata{fmt.Sprint(agentID)}
	}
	body, err = xml.Marshal(d)
	if err != nil {
		return nil, "", err
	}
	return body, c.sign(timestamp, nonce, enc), nil
}

func callbackSignature(token, timestamp, nonce, payload string) string {
	parts := []string{token, timestamp, nonce, payload}
	slices.Sort(parts)
	sum := sha1.Sum([]byte(strings.Join(parts, "")))
	return hex.EncodeToString(sum[:])
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if !('a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || '0' <= ch && ch <= '9') {
			return false
		}
	}
	return true
}
