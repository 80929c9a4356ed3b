// Thin C wrappers for the socket and poller calls Swift's Glibc overlay does not import
// (epoll, eventfd, accept4, pipe2, recvmmsg/sendmmsg) or imports awkwardly (sockaddr
// arguments). The calls that need _GNU_SOURCE (accept4, pipe2, recvmmsg, sendmmsg) live in
// shims.c: defining _GNU_SOURCE in this header would change glibc's types for every module
// that imports it and clash with Glibc/Dispatch ("fd_set has different definitions").
#ifndef C_EPSILON_TRANSPORT_SHIMS_H
#define C_EPSILON_TRANSPORT_SHIMS_H

#if defined(__linux__)
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#endif

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#if defined(__APPLE__) || defined(__FreeBSD__)
#include <sys/event.h>
#endif

static inline int epsilon_errno(void) { return errno; }

/// accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC.
int epsilon_accept4(int fd, struct sockaddr_storage *address, socklen_t *length);

static inline int epsilon_socket(int domain, int type, int protocol) {
#if defined(__linux__) || defined(__FreeBSD__)
    return socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
#else
    int fd = socket(domain, type, protocol);
    if (fd >= 0) {
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    return fd;
#endif
}

static inline int epsilon_bind(int fd, const struct sockaddr_storage *address, socklen_t length) {
    return bind(fd, (const struct sockaddr *)address, length);
}

static inline int epsilon_connect(int fd, const struct sockaddr_storage *address, socklen_t length) {
    return connect(fd, (const struct sockaddr *)address, length);
}

static inline int epsilon_getsockname(int fd, struct sockaddr_storage *address, socklen_t *length) {
    return getsockname(fd, (struct sockaddr *)address, length);
}

static inline int epsilon_getpeername(int fd, struct sockaddr_storage *address, socklen_t *length) {
    return getpeername(fd, (struct sockaddr *)address, length);
}

static inline ssize_t epsilon_sendmsg_iov(int fd, struct iovec *iov, int count) {
    struct msghdr message;
    memset(&message, 0, sizeof(message));
    message.msg_iov = iov;
    message.msg_iovlen = count;
#if defined(MSG_NOSIGNAL)
    return sendmsg(fd, &message, MSG_NOSIGNAL);
#else
    return sendmsg(fd, &message, 0);
#endif
}

static inline ssize_t epsilon_sendto(int fd, const void *bytes, size_t count,
                                     const struct sockaddr_storage *address, socklen_t length) {
#if defined(MSG_NOSIGNAL)
    return sendto(fd, bytes, count, MSG_NOSIGNAL, (const struct sockaddr *)address, length);
#else
    return sendto(fd, bytes, count, 0, (const struct sockaddr *)address, length);
#endif
}

static inline ssize_t epsilon_recvfrom(int fd, void *bytes, size_t count,
                                       struct sockaddr_storage *address, socklen_t *length) {
    return recvfrom(fd, bytes, count, 0, (struct sockaddr *)address, length);
}

/// pipe2 with O_NONBLOCK | O_CLOEXEC.
int epsilon_pipe2(int fds[2]);

static inline int epsilon_set_int_option(int fd, int level, int name, int value) {
    return setsockopt(fd, level, name, &value, sizeof(value));
}

static inline int epsilon_get_int_option(int fd, int level, int name, int *value) {
    socklen_t length = sizeof(*value);
    return getsockopt(fd, level, name, value, &length);
}

static inline int epsilon_set_linger_zero(int fd) {
    struct linger option = { 1, 0 };
    return setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, sizeof(option));
}

static inline int epsilon_so_reuseport(void) {
#if defined(SO_REUSEPORT)
    return SO_REUSEPORT;
#else
    return -1;
#endif
}

static inline int epsilon_tcp_keepidle(void) {
#if defined(TCP_KEEPIDLE)
    return TCP_KEEPIDLE;
#elif defined(TCP_KEEPALIVE)
    return TCP_KEEPALIVE;
#else
    return -1;
#endif
}

#if defined(__linux__)
static inline int epsilon_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

static inline int epsilon_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t token) {
    struct epoll_event event;
    memset(&event, 0, sizeof(event));
    event.events = events;
    event.data.u64 = token;
    return epoll_ctl(epfd, op, fd, &event);
}

static inline int epsilon_epoll_wait(int epfd, struct epoll_event *events, int capacity, int timeout) {
    return epoll_wait(epfd, events, capacity, timeout);
}

static inline uint64_t epsilon_epoll_event_token(const struct epoll_event *event) { return event->data.u64; }
static inline uint32_t epsilon_epoll_event_flags(const struct epoll_event *event) { return event->events; }
static inline size_t epsilon_epoll_event_size(void) { return sizeof(struct epoll_event); }

static inline int epsilon_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

/// Receives up to `count` (at most 64) datagrams, datagram i into `buffer + i * size`;
/// sender addresses land in `addresses`, their lengths in `address_lengths`, sizes in `lengths`.
int epsilon_recvmmsg(int fd, void *buffer, size_t size, int count,
                     struct sockaddr_storage *addresses, socklen_t *address_lengths, size_t *lengths);

/// Sends up to `count` (at most 64) datagrams in one call; datagram i is `vectors[i]` to `addresses[i]`.
int epsilon_sendmmsg(int fd, struct iovec *vectors, int count,
                     struct sockaddr_storage *addresses, socklen_t *address_lengths);

/// An io_uring instance driven by raw system calls (no liburing), used as a readiness source.
typedef struct epsilon_uring epsilon_uring;

/// Sets up a ring with `entries` submission slots and `completions` completion slots; NULL
/// with `*error` set to the errno on failure (ENOSYS, EPERM when disabled, ENOTSUP when the
/// kernel lacks IORING_FEAT_SINGLE_MMAP / IORING_FEAT_EXT_ARG, i.e. before Linux 5.11).
epsilon_uring *epsilon_uring_create(unsigned entries, unsigned completions, int *error);
void epsilon_uring_destroy(epsilon_uring *ring);
/// Queues a (multishot when `multishot` != 0) IORING_OP_POLL_ADD; -EBUSY if the queue is full
/// even after submitting what was queued.
int epsilon_uring_poll_add(epsilon_uring *ring, int fd, uint32_t mask, uint64_t user_data, int multishot);
/// Queues an IORING_OP_POLL_REMOVE of the poll whose user_data is `target`.
int epsilon_uring_poll_remove(epsilon_uring *ring, uint64_t target, uint64_t user_data);
/// Submits queued entries and, unless completions are already waiting, waits up to
/// `timeout_ms` (-1: forever, 0: not at all) for one. Returns 0 or -errno (ETIME/EINTR are 0).
int epsilon_uring_submit_and_wait(epsilon_uring *ring, int timeout_ms);
/// Copies up to `capacity` completions out and marks them seen; returns how many.
int epsilon_uring_reap(epsilon_uring *ring, uint64_t *user_data, int32_t *results, uint32_t *flags, int capacity);

// The completion model: operations on sockets, reads into a ring of loop-owned buffers.

/// The buffer group id of the provided-buffer ring.
#define EPSILON_URING_BUFFER_GROUP 1
/// Registers a provided-buffer ring (IORING_REGISTER_PBUF_RING, Linux 5.19+) of `count`
/// (a power of two, at most 32768) buffers of `size` bytes, all handed to the kernel.
/// Returns 0 or -errno (-EINVAL from older kernels).
int epsilon_uring_setup_buffers(epsilon_uring *ring, unsigned count, unsigned size);
/// The memory of buffer `id`.
void *epsilon_uring_buffer(epsilon_uring *ring, uint16_t id);
/// Gives buffer `id` back to the kernel.
void epsilon_uring_recycle_buffer(epsilon_uring *ring, uint16_t id);
/// Queues an IORING_OP_RECV into a buffer the kernel picks from the ring (IOSQE_BUFFER_SELECT);
/// its completion carries IORING_CQE_F_BUFFER and the buffer id in the upper 16 flag bits.
int epsilon_uring_recv(epsilon_uring *ring, int fd, uint64_t user_data);
/// Queues an IORING_OP_SENDMSG (MSG_NOSIGNAL); `message` and its vectors must stay valid until
/// the completion arrives.
int epsilon_uring_sendmsg(epsilon_uring *ring, int fd, struct msghdr *message, uint64_t user_data);
/// Queues an IORING_OP_ACCEPT (SOCK_NONBLOCK | SOCK_CLOEXEC), multishot (5.19+) when asked.
int epsilon_uring_accept(epsilon_uring *ring, int fd, int multishot, uint64_t user_data);
/// Queues an IORING_OP_CONNECT; `address` must stay valid until the completion arrives.
int epsilon_uring_connect(epsilon_uring *ring, int fd, const struct sockaddr_storage *address, socklen_t length,
                          uint64_t user_data);
/// Queues an IORING_OP_ASYNC_CANCEL of the operation whose user_data is `target`.
int epsilon_uring_cancel(epsilon_uring *ring, uint64_t target, uint64_t user_data);
#endif

#endif
