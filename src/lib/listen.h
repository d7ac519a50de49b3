/* Listening sockets handed to slices as network capabilities. */
#ifndef SL_LISTEN_H
#define SL_LISTEN_H

#include "lib/error.h"

#define SL_LISTEN_NAME_MAX 64
/* Pending-connection queue; systemd's default for socket units (SOMAXCONN
 * is 4096 on current kernels, more than an appliance component needs). */
#define SL_LISTEN_BACKLOG 128

/* Parse "[NAME=]tcp:HOST:PORT" (HOST may be [v6]) or "[NAME=]unix:PATH",
 * create, bind and listen. Returns a CLOEXEC fd or -1. name receives NAME or
 * a default ("listen"). */
int sl_listen_open(const char *spec, char name[SL_LISTEN_NAME_MAX], struct sl_error *err);

#endif
