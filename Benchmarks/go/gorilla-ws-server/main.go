// The gorilla/websocket peer for Benchmarks/load/websocket.sh: the same two endpoints as
// `epsilon serve`, built with Debian's Go and golang-github-gorilla-websocket-dev (GOPATH mode,
// no network; see Benchmarks/go/build.sh).
//
//	/ws/echo  every text or binary message is sent back as it came (NextReader/NextWriter, no
//	          per-message allocation)
//	/ws/chat  every text or binary message is published to every member (sender included):
//	          encoded once (websocket.PreparedMessage, the same frame bytes for every member)
//	          and queued to each member's writer goroutine, so a slow member does not hold up
//	          the others (a member 4,096 messages behind loses the newest)
//
// Usage: gorilla-ws-server PORT
package main

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"sync"

	"github.com/gorilla/websocket"
)

var upgrader = websocket.Upgrader{
	ReadBufferSize:  4096,
	WriteBufferSize: 4096,
	CheckOrigin:     func(*http.Request) bool { return true },
}

const maxMessage = 1 << 20

func echo(w http.ResponseWriter, r *http.Request) {
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	c.SetReadLimit(maxMessage)
	for {
		mt, reader, err := c.NextReader()
		if err != nil {
			return
		}
		writer, err := c.NextWriter(mt)
		if err != nil {
			return
		}
		if _, err := io.Copy(writer, reader); err != nil {
			return
		}
		if err := writer.Close(); err != nil {
			return
		}
	}
}

// room is the one chat group.
type room struct {
	mu      sync.RWMutex
	members map[*websocket.Conn]chan *websocket.PreparedMessage
}

var chat = room{members: map[*websocket.Conn]chan *websocket.PreparedMessage{}}

func (r *room) join(c *websocket.Conn) chan *websocket.PreparedMessage {
	queue := make(chan *websocket.PreparedMessage, 4096)
	r.mu.Lock()
	r.members[c] = queue
	r.mu.Unlock()
	return queue
}

func (r *room) leave(c *websocket.Conn) {
	r.mu.Lock()
	if queue, ok := r.members[c]; ok {
		delete(r.members, c)
		close(queue)
	}
	r.mu.Unlock()
}

func (r *room) publish(m *websocket.PreparedMessage) {
	r.mu.RLock()
	for _, queue := range r.members {
		select {
		case queue <- m:
		default: // full: this member loses the message, the others do not wait
		}
	}
	r.mu.RUnlock()
}

func chatHandler(w http.ResponseWriter, r *http.Request) {
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c.SetReadLimit(maxMessage)
	queue := chat.join(c)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m := range queue {
			if err := c.WritePreparedMessage(m); err != nil {
				chat.leave(c)
				for range queue {
				}
				return
			}
		}
	}()
	for {
		mt, data, err := c.ReadMessage()
		if err != nil {
			break
		}
		m, err := websocket.NewPreparedMessage(mt, data)
		if err != nil {
			break
		}
		chat.publish(m)
	}
	chat.leave(c)
	<-done
	c.Close()
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gorilla-ws-server PORT")
		os.Exit(2)
	}
	http.HandleFunc("/ws/echo", echo)
	http.HandleFunc("/ws/chat", chatHandler)
	log.Printf("gorilla-ws-server on 127.0.0.1:%s", os.Args[1])
	log.Fatal(http.ListenAndServe("127.0.0.1:"+os.Args[1], nil))
}
