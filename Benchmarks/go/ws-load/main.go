// ws-load: the WebSocket load generator of Benchmarks/load/websocket.sh. Every server is driven
// by this one tool. A small client of its own (handshake checked, frames masked with a fresh key
// each, pings answered) so that the generator costs little per message and batches its writes
// the same way against every server.
//
//	ws-load echo   -url ws://127.0.0.1:P/ws/echo -c 64 -n 16 -size 64 -warmup 1s -d 5s
//	    64 connections, 16 text messages in flight on each; a connection refills what came
//	    back in one write. Each echo is checked (same length, its sequence number in order).
//	    Prints "echo: M messages/s ...".
//	ws-load fanout -url ws://127.0.0.1:P/ws/chat -subs 1000 -window 16 -size 64 -warmup 1s -d 5s
//	    1,000 subscribers join, then one publisher sends numbered text messages, never more
//	    than WINDOW messages ahead of what every subscriber has received on average (so the
//	    server's queues stay short), in bursts of at least WINDOW/4; deliveries are counted at
//	    the subscribers, and each
//	    subscriber checks that its sequence numbers have no gap. Prints "fanout: D delivered/s ...".
//	    Subscribers read up to 256 KiB per call and parse every frame in it in place
//	    (frameReader), so the generator costs little per delivered message.
//
// Exit status 1 when a connection failed or a check did not hold.
package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// conn is one client WebSocket connection.
type conn struct {
	c    net.Conn
	r    *bufio.Reader
	out  []byte // frames waiting to be written in one call
	seed uint64 // xorshift state for the masking keys
	buf  []byte // payload of the last frame read
}

var errClosed = errors.New("closed by the server")

func dial(rawURL string) (*conn, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "ws" {
		return nil, fmt.Errorf("only ws:// URLs: %s", rawURL)
	}
	c, err := net.DialTimeout("tcp", u.Host, 10*time.Second)
	if err != nil {
		return nil, err
	}
	if tcp, ok := c.(*net.TCPConn); ok {
		tcp.SetNoDelay(true)
	}
	var nonce [16]byte
	rand.Read(nonce[:])
	key := base64.StdEncoding.EncodeToString(nonce[:])
	path := u.RequestURI()
	request := "GET " + path + " HTTP/1.1\r\nHost: " + u.Host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, request); err != nil {
		c.Close()
		return nil, err
	}
	r := bufio.NewReaderSize(c, 16384)
	status, err := r.ReadString('\n')
	if err != nil {
		c.Close()
		return nil, err
	}
	if len(status) < 12 || status[9:12] != "101" {
		c.Close()
		return nil, fmt.Errorf("handshake refused: %q", status)
	}
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	want := base64.StdEncoding.EncodeToString(sum[:])
	accepted := false
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			c.Close()
			return nil, err
		}
		if line == "\r\n" {
			break
		}
		if colon := bytes.IndexByte([]byte(line), ':'); colon > 0 {
			name := string(bytes.ToLower([]byte(line[:colon])))
			value := string(bytes.TrimSpace([]byte(line[colon+1:])))
			if name == "sec-websocket-accept" && value == want {
				accepted = true
			}
		}
	}
	if !accepted {
		c.Close()
		return nil, errors.New("handshake: missing or wrong Sec-WebSocket-Accept")
	}
	c.SetDeadline(time.Time{})
	var seed [8]byte
	rand.Read(seed[:])
	return &conn{c: c, r: r, seed: binary.LittleEndian.Uint64(seed[:]) | 1, buf: make([]byte, 0, 4096)}, nil
}

// queue appends one masked frame to the pending output.
func (k *conn) queue(opcode byte, payload []byte) {
	k.seed ^= k.seed << 13
	k.seed ^= k.seed >> 7
	k.seed ^= k.seed << 17
	var mask [4]byte
	binary.LittleEndian.PutUint32(mask[:], uint32(k.seed))
	n := len(payload)
	k.out = append(k.out, 0x80|opcode)
	switch {
	case n < 126:
		k.out = append(k.out, 0x80|byte(n))
	case n < 65536:
		k.out = append(k.out, 0x80|126, byte(n>>8), byte(n))
	default:
		k.out = append(k.out, 0x80|127)
		k.out = binary.BigEndian.AppendUint64(k.out, uint64(n))
	}
	k.out = append(k.out, mask[:]...)
	start := len(k.out)
	k.out = append(k.out, payload...)
	body := k.out[start:]
	key := uint64(binary.LittleEndian.Uint32(mask[:]))
	key |= key << 32
	i := 0
	for ; i+8 <= len(body); i += 8 {
		binary.LittleEndian.PutUint64(body[i:], binary.LittleEndian.Uint64(body[i:])^key)
	}
	for ; i < len(body); i++ {
		body[i] ^= mask[i&3]
	}
}

// flush writes the pending output in one call.
func (k *conn) flush() error {
	if len(k.out) == 0 {
		return nil
	}
	_, err := k.c.Write(k.out)
	k.out = k.out[:0]
	return err
}

// next reads frames until a data frame (text or binary; fragments not expected from these
// servers for small messages) and returns its payload in k.buf. Pings are answered.
func (k *conn) next() (opcode byte, err error) {
	for {
		var head [2]byte
		if _, err = io.ReadFull(k.r, head[:]); err != nil {
			return 0, err
		}
		if head[1]&0x80 != 0 {
			return 0, errors.New("masked frame from the server")
		}
		if head[0]&0x80 == 0 {
			return 0, errors.New("fragmented message (not expected for small messages)")
		}
		n := uint64(head[1] & 0x7f)
		switch n {
		case 126:
			var ext [2]byte
			if _, err = io.ReadFull(k.r, ext[:]); err != nil {
				return 0, err
			}
			n = uint64(binary.BigEndian.Uint16(ext[:]))
		case 127:
			var ext [8]byte
			if _, err = io.ReadFull(k.r, ext[:]); err != nil {
				return 0, err
			}
			n = binary.BigEndian.Uint64(ext[:])
		}
		if n > 1<<20 {
			return 0, fmt.Errorf("frame of %d bytes", n)
		}
		if uint64(cap(k.buf)) < n {
			k.buf = make([]byte, n)
		}
		k.buf = k.buf[:n]
		if _, err = io.ReadFull(k.r, k.buf); err != nil {
			return 0, err
		}
		switch op := head[0] & 0x0f; op {
		case 1, 2:
			return op, nil
		case 9:
			k.queue(10, k.buf)
			if err = k.flush(); err != nil {
				return 0, err
			}
		case 10:
		case 8:
			return 0, errClosed
		default:
			return 0, fmt.Errorf("unexpected opcode %d", op)
		}
	}
}

// frameReader parses many frames per read: the fan-out subscribers read large blocks (up to
// 256 KiB per call) and walk every complete frame in them in place, instead of one buffered
// read per frame, so that the generator can take well over 500,000 messages per second.
type frameReader struct {
	buf        []byte
	start, end int
}

func newFrameReader() *frameReader { return &frameReader{buf: make([]byte, 256<<10)} }

// fill reads once from r (the connection's bufio.Reader: what the handshake left buffered
// comes first, then large reads go straight to the socket).
func (f *frameReader) fill(r io.Reader) error {
	if f.start > 0 {
		f.end = copy(f.buf, f.buf[f.start:f.end])
		f.start = 0
	}
	if f.end == len(f.buf) {
		f.buf = append(f.buf, make([]byte, len(f.buf))...)
	}
	n, err := r.Read(f.buf[f.end:])
	f.end += n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// next returns the next complete frame in the buffer (ok false when more bytes are needed);
// payload is valid until the next fill.
func (f *frameReader) next() (fin bool, opcode byte, payload []byte, ok bool, err error) {
	b := f.buf[f.start:f.end]
	if len(b) < 2 {
		return false, 0, nil, false, nil
	}
	if b[1]&0x80 != 0 {
		return false, 0, nil, false, errors.New("masked frame from the server")
	}
	n := uint64(b[1] & 0x7f)
	header := 2
	switch n {
	case 126:
		if len(b) < 4 {
			return false, 0, nil, false, nil
		}
		n, header = uint64(binary.BigEndian.Uint16(b[2:4])), 4
	case 127:
		if len(b) < 10 {
			return false, 0, nil, false, nil
		}
		n, header = binary.BigEndian.Uint64(b[2:10]), 10
	}
	if n > 1<<20 {
		return false, 0, nil, false, fmt.Errorf("frame of %d bytes", n)
	}
	if uint64(len(b)-header) < n {
		return false, 0, nil, false, nil
	}
	f.start += header + int(n)
	return b[0]&0x80 != 0, b[0] & 0x0f, b[header : header+int(n)], true, nil
}

// readBatch reads once and hands every complete data frame to data (answering pings);
// returns how many data frames it saw.
func (k *conn) readBatch(f *frameReader, data func(opcode byte, payload []byte) error) (int, error) {
	if err := f.fill(k.r); err != nil {
		return 0, err
	}
	count := 0
	ponged := false
	for {
		fin, op, payload, ok, err := f.next()
		if err != nil {
			return count, err
		}
		if !ok {
			break
		}
		switch op {
		case 1, 2:
			if !fin {
				return count, errors.New("fragmented message (not expected for small messages)")
			}
			count++
			if err := data(op, payload); err != nil {
				return count, err
			}
		case 9:
			k.queue(10, payload)
			ponged = true
		case 10:
		case 8:
			return count, errClosed
		default:
			return count, fmt.Errorf("unexpected opcode %d", op)
		}
	}
	// Write only when there is a Pong: the publisher's own goroutine writes on its conn.
	if !ponged {
		return count, nil
	}
	return count, k.flush()
}

// message fills payload with a numbered text message: "seq=NNNNNNNNNNNN" (12 digits) then 'x'
// padding; payload is at least 16 bytes.
func message(payload []byte, seq uint64) {
	copy(payload, "seq=")
	for i := 15; i >= 4; i-- {
		payload[i] = byte('0' + seq%10)
		seq /= 10
	}
	for i := 16; i < len(payload); i++ {
		payload[i] = 'x'
	}
}

// sequence reads the number message wrote.
func sequence(payload []byte) (uint64, bool) {
	if len(payload) < 16 || string(payload[:4]) != "seq=" {
		return 0, false
	}
	var v uint64
	for _, digit := range payload[4:16] {
		if digit < '0' || digit > '9' {
			return 0, false
		}
		v = v*10 + uint64(digit-'0')
	}
	return v, true
}

func minInt(a, b int) int {
	if a < b {
		return a
	}
	return b
}

type failures struct {
	mu    sync.Mutex
	count int
	first error
}

func (f *failures) add(err error) {
	f.mu.Lock()
	f.count++
	if f.first == nil {
		f.first = err
	}
	f.mu.Unlock()
}

// serverPID, when set (-pid), is the server process whose CPU time is read over the window.
var serverPID int

// cpuSeconds is the user+system CPU time of process pid (0 when unknown).
func cpuSeconds(pid int) float64 {
	if pid == 0 {
		return 0
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	fields := bytes.Fields(data[bytes.LastIndexByte(data, ')')+1:])
	if len(fields) < 13 {
		return 0
	}
	user, _ := strconv.ParseFloat(string(fields[11]), 64)
	system, _ := strconv.ParseFloat(string(fields[12]), 64)
	return (user + system) / 100 // USER_HZ
}

// sample is what measure saw: the rate, and the server's CPU use over the same time.
type sample struct {
	rate      float64 // counter growth per second
	serverCPU float64 // server CPU seconds per second (1.0 = one core busy); 0 without -pid
	perCPU    float64 // counter growth per server CPU second; 0 without -pid
	clientCPU float64 // this generator's CPU seconds per second
}

// measure waits out the warm-up, then returns counter's growth per second over d.
func measure(counter *atomic.Uint64, warmup, d time.Duration) sample {
	time.Sleep(warmup)
	before, cpu0, self0, t0 := counter.Load(), cpuSeconds(serverPID), cpuSeconds(os.Getpid()), time.Now()
	time.Sleep(d)
	after, cpu1, self1, t1 := counter.Load(), cpuSeconds(serverPID), cpuSeconds(os.Getpid()), time.Now()
	w := sample{rate: float64(after-before) / t1.Sub(t0).Seconds(), clientCPU: (self1 - self0) / t1.Sub(t0).Seconds()}
	if serverPID != 0 && cpu1 > cpu0 {
		w.serverCPU = (cpu1 - cpu0) / t1.Sub(t0).Seconds()
		w.perCPU = float64(after-before) / (cpu1 - cpu0)
	}
	return w
}

func (w sample) String() string {
	if serverPID == 0 {
		return fmt.Sprintf(", client CPU %.2f", w.clientCPU)
	}
	return fmt.Sprintf(", server CPU %.2f, %.0f per server CPU second, client CPU %.2f", w.serverCPU, w.perCPU, w.clientCPU)
}

func runEcho(target string, connections, inFlight, size int, warmup, d time.Duration) int {
	var received atomic.Uint64
	var stopping atomic.Bool
	var failed failures
	conns := make([]*conn, 0, connections)
	for i := 0; i < connections; i++ {
		k, err := dial(target)
		if err != nil {
			fmt.Fprintf(os.Stderr, "echo: connection %d: %v\n", i, err)
			return 1
		}
		conns = append(conns, k)
	}
	var wg sync.WaitGroup
	for _, k := range conns {
		wg.Add(1)
		go func(k *conn) {
			defer wg.Done()
			payload := make([]byte, size)
			var sent, got uint64
			for ; sent < uint64(inFlight); sent++ {
				message(payload, sent)
				k.queue(1, payload)
			}
			if err := k.flush(); err != nil {
				failed.add(err)
				return
			}
			var batch uint64
			for {
				op, err := k.next()
				if err != nil {
					if !stopping.Load() {
						failed.add(err)
					}
					return
				}
				seq, ok := sequence(k.buf)
				if op != 1 || !ok || seq != got || len(k.buf) != size {
					failed.add(fmt.Errorf("echo %d: got opcode %d, %d bytes, %q", got, op, len(k.buf), k.buf[:minInt(len(k.buf), 16)]))
					return
				}
				got++
				batch++
				message(payload, sent)
				k.queue(1, payload)
				sent++
				// Refill in one write once everything that arrived together is read.
				if k.r.Buffered() == 0 || batch >= 64 {
					received.Add(batch)
					batch = 0
					if stopping.Load() {
						return
					}
					if err := k.flush(); err != nil {
						failed.add(err)
						return
					}
				}
			}
		}(k)
	}
	rate := measure(&received, warmup, d)
	stopping.Store(true)
	for _, k := range conns {
		k.c.Close()
	}
	wg.Wait()
	fmt.Printf("echo: %.0f messages/s (%d connections, %d in flight each, %d-byte text)%v", rate.rate, connections, inFlight, size, rate)
	if failed.count > 0 {
		fmt.Printf(", %d connections FAILED (first: %v)\n", failed.count, failed.first)
		return 1
	}
	fmt.Println(", all echoes checked")
	return 0
}

func runFanout(target string, subscribers, window, size int, warmup, d time.Duration) int {
	var delivered atomic.Uint64
	var gaps atomic.Uint64
	var stopping atomic.Bool
	var waiting atomic.Bool
	wake := make(chan struct{}, 1)
	var failed failures
	subs := make([]*conn, 0, subscribers)
	for i := 0; i < subscribers; i++ {
		k, err := dial(target)
		if err != nil {
			fmt.Fprintf(os.Stderr, "fanout: subscriber %d: %v\n", i, err)
			return 1
		}
		subs = append(subs, k)
	}
	publisher, err := dial(target)
	if err != nil {
		fmt.Fprintf(os.Stderr, "fanout: publisher: %v\n", err)
		return 1
	}
	// Let the server finish joining every member before the first message.
	time.Sleep(500 * time.Millisecond)
	var wg sync.WaitGroup
	for _, k := range subs {
		wg.Add(1)
		go func(k *conn) {
			defer wg.Done()
			var last uint64
			first := true
			f := newFrameReader()
			check := func(op byte, payload []byte) error {
				seq, ok := sequence(payload)
				if op != 1 || !ok || len(payload) != size {
					return fmt.Errorf("subscriber: got opcode %d, %d bytes", op, len(payload))
				}
				if !first && seq != last+1 {
					gaps.Add(1)
				}
				first, last = false, seq
				return nil
			}
			for {
				// One large read, every frame in it parsed in place, one count per read.
				n, err := k.readBatch(f, check)
				if n > 0 {
					delivered.Add(uint64(n))
					if waiting.Load() {
						select {
						case wake <- struct{}{}:
						default:
						}
					}
				}
				if err != nil {
					if !stopping.Load() {
						failed.add(err)
					}
					return
				}
			}
		}(k)
	}
	// The publisher is a member too: drain its copies.
	wg.Add(1)
	go func() {
		defer wg.Done()
		f := newFrameReader()
		for {
			if _, err := publisher.readBatch(f, func(byte, []byte) error { return nil }); err != nil {
				if !stopping.Load() {
					failed.add(fmt.Errorf("publisher: %w", err))
				}
				return
			}
		}
	}()
	pubDone := make(chan struct{})
	go func() {
		defer close(pubDone)
		payload := make([]byte, size)
		var sent uint64
		n := uint64(subscribers)
		// Send in bursts of at least a quarter window, as a busy publisher would.
		burst := int64(window / 4)
		if burst < 1 {
			burst = 1
		}
		for !stopping.Load() {
			allowed := int64(delivered.Load()/n) + int64(window) - int64(sent)
			if allowed < burst {
				waiting.Store(true)
				// Re-check after announcing the wait, then sleep until a subscriber wakes us
				// (bounded, so a stalled server still lets the run end).
				if int64(delivered.Load()/n)+int64(window)-int64(sent) < burst {
					select {
					case <-wake:
					case <-time.After(100 * time.Millisecond):
					}
				}
				waiting.Store(false)
				continue
			}
			for ; allowed > 0; allowed-- {
				message(payload, sent)
				publisher.queue(1, payload)
				sent++
			}
			if err := publisher.flush(); err != nil {
				if !stopping.Load() {
					failed.add(fmt.Errorf("publisher: %w", err))
				}
				return
			}
		}
	}()
	rate := measure(&delivered, warmup, d)
	stopping.Store(true)
	<-pubDone
	publisher.c.Close()
	for _, k := range subs {
		k.c.Close()
	}
	wg.Wait()
	fmt.Printf("fanout: %.0f delivered/s (%d subscribers, window %d, %d-byte text)%v, %d gaps", rate.rate, subscribers, window, size, rate, gaps.Load())
	if failed.count > 0 {
		fmt.Printf(", %d connections FAILED (first: %v)\n", failed.count, failed.first)
		return 1
	}
	if gaps.Load() > 0 {
		fmt.Println(" (messages lost by the server)")
		return 1
	}
	fmt.Println(", every delivery in order")
	return 0
}

func main() {
	if len(os.Args) < 2 || (os.Args[1] != "echo" && os.Args[1] != "fanout") {
		fmt.Fprintln(os.Stderr, "usage: ws-load echo|fanout [flags] (-h for flags)")
		os.Exit(2)
	}
	flags := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	target := flags.String("url", "", "ws:// URL of the endpoint")
	connections := flags.Int("c", 64, "echo: connections")
	inFlight := flags.Int("n", 16, "echo: messages in flight per connection")
	subscribers := flags.Int("subs", 1000, "fanout: subscribers")
	window := flags.Int("window", 16, "fanout: messages the publisher may run ahead")
	size := flags.Int("size", 64, "message size in bytes (at least 16)")
	warmup := flags.Duration("warmup", time.Second, "time before counting")
	duration := flags.Duration("d", 5*time.Second, "time counted")
	flags.IntVar(&serverPID, "pid", 0, "server process to read CPU time from (/proc/PID/stat)")
	flags.Parse(os.Args[2:])
	if *target == "" || *size < 16 {
		flags.Usage()
		os.Exit(2)
	}
	if os.Args[1] == "echo" {
		os.Exit(runEcho(*target, *connections, *inFlight, *size, *warmup, *duration))
	}
	os.Exit(runFanout(*target, *subscribers, *window, *size, *warmup, *duration))
}
