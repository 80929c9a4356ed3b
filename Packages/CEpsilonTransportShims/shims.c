// The wrappers that need _GNU_SOURCE, compiled here so the public header does not define it.
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include "CEpsilonTransportShims.h"

int epsilon_accept4(int fd, struct sockaddr_storage *address, socklen_t *length) {
#if defined(__linux__) || defined(__FreeBSD__)
    return accept4(fd, (struct sockaddr *)address, length, SOCK_NONBLOCK | SOCK_CLOEXEC);
#else
    int accepted = accept(fd, (struct sockaddr *)address, length);
    if (accepted >= 0) {
        fcntl(accepted, F_SETFL, fcntl(accepted, F_GETFL) | O_NONBLOCK);
        fcntl(accepted, F_SETFD, FD_CLOEXEC);
    }
    return accepted;
#endif
}

int epsilon_pipe2(int fds[2]) {
#if defined(__linux__) || defined(__FreeBSD__)
    return pipe2(fds, O_NONBLOCK | O_CLOEXEC);
#else
    if (pipe(fds) != 0) return -1;
    for (int i = 0; i < 2; i++) {
        fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
        fcntl(fds[i], F_SETFD, FD_CLOEXEC);
    }
    return 0;
#endif
}

#if defined(__linux__)
#include <linux/io_uring.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <errno.h>

struct epsilon_uring {
    int fd;
    void *ring;
    size_t ring_size;
    struct io_uring_sqe *sqes;
    size_t sqes_size;
    unsigned *sq_head, *sq_tail, *sq_mask, *sq_array, sq_entries;
    unsigned *cq_head, *cq_tail, *cq_mask;
    struct io_uring_cqe *cqes;
    unsigned local_tail;
    unsigned submitted_tail;
    /* The provided-buffer ring (IORING_REGISTER_PBUF_RING), once set up. */
    struct io_uring_buf_ring *buffer_ring;
    size_t buffer_ring_size;
    unsigned char *buffer_memory;
    size_t buffer_memory_size;
    unsigned buffer_count;
    unsigned buffer_size;
    unsigned short buffer_tail;
};

epsilon_uring *epsilon_uring_create(unsigned entries, unsigned completions, int *error) {
    struct io_uring_params params;
    memset(&params, 0, sizeof(params));
    params.flags = IORING_SETUP_CQSIZE;
    params.cq_entries = completions;
    int fd = (int)syscall(__NR_io_uring_setup, entries, &params);
    if (fd < 0) { *error = errno; return NULL; }
    if (!(params.features & IORING_FEAT_SINGLE_MMAP) || !(params.features & IORING_FEAT_EXT_ARG)) {
        close(fd);
        *error = ENOTSUP;
        return NULL;
    }
    epsilon_uring *ring = calloc(1, sizeof(epsilon_uring));
    if (!ring) { close(fd); *error = ENOMEM; return NULL; }
    ring->fd = fd;
    size_t sq_size = params.sq_off.array + params.sq_entries * sizeof(unsigned);
    size_t cq_size = params.cq_off.cqes + params.cq_entries * sizeof(struct io_uring_cqe);
    ring->ring_size = sq_size > cq_size ? sq_size : cq_size;
    ring->ring = mmap(NULL, ring->ring_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
    if (ring->ring == MAP_FAILED) { *error = errno; close(fd); free(ring); return NULL; }
    ring->sqes_size = params.sq_entries * sizeof(struct io_uring_sqe);
    ring->sqes = mmap(NULL, ring->sqes_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
    if (ring->sqes == MAP_FAILED) {
        *error = errno;
        munmap(ring->ring, ring->ring_size);
        close(fd);
        free(ring);
        return NULL;
    }
    char *base = ring->ring;
    ring->sq_head = (unsigned *)(base + params.sq_off.head);
    ring->sq_tail = (unsigned *)(base + params.sq_off.tail);
    ring->sq_mask = (unsigned *)(base + params.sq_off.ring_mask);
    ring->sq_array = (unsigned *)(base + params.sq_off.array);
    ring->sq_entries = params.sq_entries;
    ring->cq_head = (unsigned *)(base + params.cq_off.head);
    ring->cq_tail = (unsigned *)(base + params.cq_off.tail);
    ring->cq_mask = (unsigned *)(base + params.cq_off.ring_mask);
    ring->cqes = (struct io_uring_cqe *)(base + params.cq_off.cqes);
    ring->local_tail = *ring->sq_tail;
    ring->submitted_tail = ring->local_tail;
    return ring;
}

void epsilon_uring_destroy(epsilon_uring *ring) {
    if (!ring) return;
    if (ring->buffer_ring) munmap(ring->buffer_ring, ring->buffer_ring_size);
    if (ring->buffer_memory) munmap(ring->buffer_memory, ring->buffer_memory_size);
    munmap(ring->sqes, ring->sqes_size);
    munmap(ring->ring, ring->ring_size);
    close(ring->fd);
    free(ring);
}

static int uring_enter(epsilon_uring *ring, unsigned min_complete, int timeout_ms) {
    unsigned to_submit = ring->local_tail - ring->submitted_tail;
    __atomic_store_n(ring->sq_tail, ring->local_tail, __ATOMIC_RELEASE);
    unsigned flags = 0;
    struct __kernel_timespec ts;
    struct io_uring_getevents_arg arg;
    memset(&arg, 0, sizeof(arg));
    arg.sigmask_sz = _NSIG / 8;
    if (min_complete > 0) {
        flags |= IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG;
        if (timeout_ms >= 0) {
            ts.tv_sec = timeout_ms / 1000;
            ts.tv_nsec = (long long)(timeout_ms % 1000) * 1000000LL;
            arg.ts = (uint64_t)(uintptr_t)&ts;
        }
    }
    if (to_submit == 0 && min_complete == 0) return 0;
    int result = (int)syscall(__NR_io_uring_enter, ring->fd, to_submit, min_complete, flags,
                              flags & IORING_ENTER_EXT_ARG ? (void *)&arg : NULL,
                              flags & IORING_ENTER_EXT_ARG ? sizeof(arg) : 0);
    if (result < 0) {
        int code = errno;
        if (code == ETIME || code == EINTR) return 0;
        return -code;
    }
    ring->submitted_tail += (unsigned)result <= to_submit ? (unsigned)result : to_submit;
    return 0;
}

static struct io_uring_sqe *uring_sqe(epsilon_uring *ring) {
    unsigned head = __atomic_load_n(ring->sq_head, __ATOMIC_ACQUIRE);
    if (ring->local_tail - head >= ring->sq_entries) {
        uring_enter(ring, 0, 0);
        head = __atomic_load_n(ring->sq_head, __ATOMIC_ACQUIRE);
        if (ring->local_tail - head >= ring->sq_entries) return NULL;
    }
    unsigned index = ring->local_tail & *ring->sq_mask;
    struct io_uring_sqe *sqe = &ring->sqes[index];
    memset(sqe, 0, sizeof(*sqe));
    ring->sq_array[index] = index;
    ring->local_tail++;
    return sqe;
}

int epsilon_uring_poll_add(epsilon_uring *ring, int fd, uint32_t mask, uint64_t user_data, int multishot) {
    struct io_uring_sqe *sqe = uring_sqe(ring);
    if (!sqe) return -EBUSY;
    sqe->opcode = IORING_OP_POLL_ADD;
    sqe->fd = fd;
    sqe->poll32_events = mask;
    sqe->len = multishot ? IORING_POLL_ADD_MULTI : 0;
    sqe->user_data = user_data;
    return 0;
}

int epsilon_uring_poll_remove(epsilon_uring *ring, uint64_t target, uint64_t user_data) {
    struct io_uring_sqe *sqe = uring_sqe(ring);
    if (!sqe) return -EBUSY;
    sqe->opcode = IORING_OP_POLL_REMOVE;
    sqe->fd = -1;
    sqe->addr = target;
    sqe->user_data = user_data;
    return 0;
}

int epsilon_uring_setup_buffers(epsilon_uring *ring, unsigned count, unsigned size) {
    if (count == 0 || count > 32768 || (count & (count - 1)) != 0 || ring->buffer_ring) return -EINVAL;
    size_t ring_size = (size_t)count * sizeof(struct io_uring_buf);
    void *ring_memory = mmap(NULL, ring_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (ring_memory == MAP_FAILED) return -errno;
    size_t memory_size = (size_t)count * size;
    void *memory = mmap(NULL, memory_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) { int code = errno; munmap(ring_memory, ring_size); return -code; }
    struct io_uring_buf_reg registration;
    memset(&registration, 0, sizeof(registration));
    registration.ring_addr = (uint64_t)(uintptr_t)ring_memory;
    registration.ring_entries = count;
    registration.bgid = EPSILON_URING_BUFFER_GROUP;
    if (syscall(__NR_io_uring_register, ring->fd, IORING_REGISTER_PBUF_RING, &registration, 1) != 0) {
        int code = errno;
        munmap(ring_memory, ring_size);
        munmap(memory, memory_size);
        return -code;
    }
    ring->buffer_ring = ring_memory;
    ring->buffer_ring_size = ring_size;
    ring->buffer_memory = memory;
    ring->buffer_memory_size = memory_size;
    ring->buffer_count = count;
    ring->buffer_size = size;
    ring->buffer_tail = 0;
    for (unsigned id = 0; id < count; id++) epsilon_uring_recycle_buffer(ring, (uint16_t)id);
    return 0;
}

void *epsilon_uring_buffer(epsilon_uring *ring, uint16_t id) {
    return ring->buffer_memory + (size_t)id * ring->buffer_size;
}

void epsilon_uring_recycle_buffer(epsilon_uring *ring, uint16_t id) {
    struct io_uring_buf *slot = &ring->buffer_ring->bufs[ring->buffer_tail & (ring->buffer_count - 1)];
    slot->addr = (uint64_t)(uintptr_t)(ring->buffer_memory + (size_t)id * ring->buffer_size);
    slot->len = ring->buffer_size;
    slot->bid = id;
    ring->buffer_tail++;
    __atomic_store_n(&ring->buffer_ring->tail, ring->buffer_tail, __ATOMIC_RELEASE);
}

int epsilon_uring_recv(epsilon_uring *ring, int fd, uint64_t user_data) {
    struct io_uring_sqe *sqe = uring_sqe(ring);
    if (!sqe) return -EBUSY;
    sqe->opcode = IORING_OP_RECV;
    sqe->fd = fd;
    sqe->flags = IOSQE_BUFFER_SELECT;
    sqe->buf_group = EPSILON_URING_BUFFER_GROUP;
    sqe->len = 0; /* the whole selected buffer */
    sqe->user_data = user_data;
    return 0;
}

int epsilon_uring_sendmsg(epsilon_uring *ring, int fd, struct msghdr *message, uint64_t user_data) {
    struct io_uring_sqe *sqe = uring_sqe(ring);
    if (!sqe) return -EBUSY;
    sqe->opcode = IORING_OP_SENDMSG;
    sqe->fd = fd;
    sqe->addr = (uint64_t)(uintptr_t)message;
    sqe->len = 1;
    sqe->msg_flags = MSG_NOSIGNAL;
    sqe->user_data = user_data;
    return 0;
}

int epsilon_uring_accept(epsilon_uring *ring, int fd, int multishot, uint64_t user_data) {
    struct io_uring_sqe *sqe = uring_sqe(ring);
    if (!sqe) return -EBUSY;
    sqe->opcode = IORING_OP_ACCEPT;
    sqe->fd = fd;
    sqe->accept_flags = SOCK_NONBLOCK | SOCK_CLOEXEC;
    sqe->ioprio = multishot ? IORING_ACCEPT_MULTISHOT : 0;
    sqe->user_data = user_data;
    return 0;
}

int epsilon_uring_connect(epsilon_uring *ring, int fd, const struct sockaddr_storage *address, socklen_t length,
                          uint64_t user_data) {
    struct io_uring_sqe *sqe = uring_sqe(ring);
    if (!sqe) return -EBUSY;
    sqe->opcode = IORING_OP_CONNECT;
    sqe->fd = fd;
    sqe->addr = (uint64_t)(uintptr_t)address;
    sqe->off = length;
    sqe->user_data = user_data;
    return 0;
}

int epsilon_uring_cancel(epsilon_uring *ring, uint64_t target, uint64_t user_data) {
    struct io_uring_sqe *sqe = uring_sqe(ring);
    if (!sqe) return -EBUSY;
    sqe->opcode = IORING_OP_ASYNC_CANCEL;
    sqe->fd = -1;
    sqe->addr = target;
    sqe->user_data = user_data;
    return 0;
}

int epsilon_uring_submit_and_wait(epsilon_uring *ring, int timeout_ms) {
    unsigned ready = __atomic_load_n(ring->cq_tail, __ATOMIC_ACQUIRE) - *ring->cq_head;
    unsigned wait = (ready == 0 && timeout_ms != 0) ? 1 : 0;
    return uring_enter(ring, wait, timeout_ms);
}

int epsilon_uring_reap(epsilon_uring *ring, uint64_t *user_data, int32_t *results, uint32_t *flags, int capacity) {
    unsigned head = *ring->cq_head;
    unsigned tail = __atomic_load_n(ring->cq_tail, __ATOMIC_ACQUIRE);
    int count = 0;
    while (head != tail && count < capacity) {
        struct io_uring_cqe *cqe = &ring->cqes[head & *ring->cq_mask];
        user_data[count] = cqe->user_data;
        results[count] = cqe->res;
        flags[count] = cqe->flags;
        count++;
        head++;
    }
    __atomic_store_n(ring->cq_head, head, __ATOMIC_RELEASE);
    return count;
}

int epsilon_recvmmsg(int fd, void *buffer, size_t size, int count,
                     struct sockaddr_storage *addresses, socklen_t *address_lengths, size_t *lengths) {
    struct mmsghdr messages[64];
    struct iovec vectors[64];
    if (count > 64) count = 64;
    memset(messages, 0, sizeof(struct mmsghdr) * (size_t)count);
    for (int i = 0; i < count; i++) {
        vectors[i].iov_base = (char *)buffer + (size_t)i * size;
        vectors[i].iov_len = size;
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
        messages[i].msg_hdr.msg_name = &addresses[i];
        messages[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
    }
    int received = recvmmsg(fd, messages, (unsigned int)count, MSG_DONTWAIT, NULL);
    for (int i = 0; i < received; i++) {
        lengths[i] = messages[i].msg_len;
        address_lengths[i] = messages[i].msg_hdr.msg_namelen;
    }
    return received;
}

int epsilon_sendmmsg(int fd, struct iovec *vectors, int count,
                     struct sockaddr_storage *addresses, socklen_t *address_lengths) {
    struct mmsghdr messages[64];
    if (count > 64) count = 64;
    memset(messages, 0, sizeof(struct mmsghdr) * (size_t)count);
    for (int i = 0; i < count; i++) {
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
        messages[i].msg_hdr.msg_name = &addresses[i];
        messages[i].msg_hdr.msg_namelen = address_lengths[i];
    }
    return sendmmsg(fd, messages, (unsigned int)count, MSG_DONTWAIT | MSG_NOSIGNAL);
}
#endif
