// The C half of the WinSDK facsimile (see WinSDK.swift): the Win32 structures, function types
// and functions the IOCP backend uses, declared with Windows x86-64 (LLP64) widths so Swift
// imports them as it does on Windows. Declarations only: nothing here is ever linked or run.
#pragma once
#include <stdint.h>
#include <stddef.h>
#include <sys/socket.h>   // sockaddr, sockaddr_storage, socklen_t: shared with the POSIX code

typedef uint32_t DWORD;            // unsigned long: 32-bit on Windows
typedef uint32_t ULONG;
typedef uintptr_t ULONG_PTR;
typedef char CHAR;
typedef unsigned int GROUP;
typedef uintptr_t SOCKET;          // UINT_PTR
typedef void *HANDLE;
typedef void *PVOID;
typedef _Bool BOOL;                // Swift imports Win32 BOOL results as Bool (WindowsBool bridging)
typedef struct sockaddr_storage SOCKADDR_STORAGE;

typedef struct _GUID {
    uint32_t Data1;
    uint16_t Data2;
    uint16_t Data3;
    uint8_t Data4[8];
} GUID;

typedef struct _OVERLAPPED {
    ULONG_PTR Internal;
    ULONG_PTR InternalHigh;
    union {
        struct {
            DWORD Offset;
            DWORD OffsetHigh;
        };
        PVOID Pointer;
    };
    HANDLE hEvent;
} OVERLAPPED, *LPOVERLAPPED;

typedef struct _OVERLAPPED_ENTRY {
    ULONG_PTR lpCompletionKey;
    LPOVERLAPPED lpOverlapped;
    ULONG_PTR Internal;
    DWORD dwNumberOfBytesTransferred;
} OVERLAPPED_ENTRY, *LPOVERLAPPED_ENTRY;

typedef struct _WSABUF {
    ULONG len;
    CHAR *buf;
} WSABUF, *LPWSABUF;

typedef struct _WSAPROTOCOL_INFOW {
    DWORD dwServiceFlags1;
    DWORD dwServiceFlags2;
    DWORD dwServiceFlags3;
    DWORD dwServiceFlags4;
    DWORD dwProviderFlags;
    GUID ProviderId;
    DWORD dwCatalogEntryId;
    int iVersion;
    int iAddressFamily;
    int iMaxSockAddr;
    int iMinSockAddr;
    int iSocketType;
    int iProtocol;
} WSAPROTOCOL_INFOW, *LPWSAPROTOCOL_INFOW;

typedef void (*LPWSAOVERLAPPED_COMPLETION_ROUTINE)(DWORD dwError, DWORD cbTransferred, LPOVERLAPPED lpOverlapped,
                                                   DWORD dwFlags);
typedef BOOL (*LPFN_ACCEPTEX)(SOCKET sListenSocket, SOCKET sAcceptSocket, PVOID lpOutputBuffer,
                              DWORD dwReceiveDataLength, DWORD dwLocalAddressLength, DWORD dwRemoteAddressLength,
                              DWORD *lpdwBytesReceived, LPOVERLAPPED lpOverlapped);
typedef BOOL (*LPFN_CONNECTEX)(SOCKET s, const struct sockaddr *name, int namelen, PVOID lpSendBuffer,
                               DWORD dwSendDataLength, DWORD *lpdwBytesSent, LPOVERLAPPED lpOverlapped);

#define INFINITE 0xFFFFFFFF
#define WSA_IO_PENDING 997
#define WSAENOBUFS 10055
#define WSA_FLAG_OVERLAPPED 0x01
#define SO_PROTOCOL_INFOW 0x2005
// Not importable on Windows either, so not here: WSAID_ACCEPTEX / WSAID_CONNECTEX (brace
// initializers), SIO_GET_EXTENSION_FUNCTION_POINTER (_WSAIORW(IOC_WS2, 6), function-like),
// INVALID_HANDLE_VALUE and INVALID_SOCKET (casts; the Swift overlay provides them, see WinSDK.swift).

DWORD GetLastError(void);
int WSAGetLastError(void);
BOOL CloseHandle(HANDLE hObject);
HANDLE CreateIoCompletionPort(HANDLE FileHandle, HANDLE ExistingCompletionPort, ULONG_PTR CompletionKey,
                              DWORD NumberOfConcurrentThreads);
BOOL PostQueuedCompletionStatus(HANDLE CompletionPort, DWORD dwNumberOfBytesTransferred, ULONG_PTR dwCompletionKey,
                                LPOVERLAPPED lpOverlapped);
BOOL GetQueuedCompletionStatusEx(HANDLE CompletionPort, LPOVERLAPPED_ENTRY lpCompletionPortEntries, ULONG ulCount,
                                 ULONG *ulNumEntriesRemoved, DWORD dwMilliseconds, BOOL fAlertable);
BOOL CancelIoEx(HANDLE hFile, LPOVERLAPPED lpOverlapped);
int WSARecv(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount, DWORD *lpNumberOfBytesRecvd, DWORD *lpFlags,
            LPOVERLAPPED lpOverlapped, LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine);
int WSASend(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount, DWORD *lpNumberOfBytesSent, DWORD dwFlags,
            LPOVERLAPPED lpOverlapped, LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine);
SOCKET WSASocketW(int af, int type, int protocol, LPWSAPROTOCOL_INFOW lpProtocolInfo, GROUP g, DWORD dwFlags);
int WSAIoctl(SOCKET s, DWORD dwIoControlCode, void *lpvInBuffer, DWORD cbInBuffer, void *lpvOutBuffer,
             DWORD cbOutBuffer, DWORD *lpcbBytesReturned, LPOVERLAPPED lpOverlapped,
             LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine);
