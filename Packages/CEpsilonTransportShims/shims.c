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
