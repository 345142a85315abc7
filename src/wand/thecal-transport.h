/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-transport.h: moves telemetry frames between the programmer and a pump (DESIGN.md
 * "Telemetry"). A transport knows nothing of the protocol beyond frame boundaries
 * (thecal_frame_peek_length): src/proto decides what to send and when.
 *
 * Implementations: the USB wand (thecal-usb-transport.c, libusb), the loopback to an in-process
 * simulated pump (thecal-loopback-transport.c, the demo) and the fault injector that wraps any
 * of them (thecal-fault-transport.c).
 *
 * Threads: every method is called on the thread that owns the transport's GMainContext (the
 * main thread in the app), and every callback runs there too, never on a transport's own
 * thread (the USB event thread only queues work for that context).
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define THECAL_WAND_ERROR (thecal_wand_error_quark ())

/* Every failure of every transport is one of these, with a message a clinician understands. */
typedef enum
{
  THECAL_WAND_ERROR_NOT_FOUND,    /* "No wand connected" */
  THECAL_WAND_ERROR_UNPLUGGED,    /* "Wand unplugged" */
  THECAL_WAND_ERROR_NO_PUMP,      /* "No pump in range": nothing answered within the timeout */
  THECAL_WAND_ERROR_PERMISSION,   /* "No permission to use the wand" (udev rule missing) */
  THECAL_WAND_ERROR_BUSY,         /* "The wand is in use by another program" */
  THECAL_WAND_ERROR_DISCONNECTED, /* the transport was closed */
  THECAL_WAND_ERROR_FRAME,        /* a frame larger than THECAL_FRAME_MAX or otherwise unusable */
  THECAL_WAND_ERROR_IO,           /* anything else the device or the system reported */
} ThecalWandError;

GQuark thecal_wand_error_quark (void);

#define THECAL_TYPE_TRANSPORT (thecal_transport_get_type ())
G_DECLARE_INTERFACE (ThecalTransport, thecal_transport, THECAL, TRANSPORT, GObject)

struct _ThecalTransportInterface
{
  GTypeInterface parent_iface;

  /* Sends one whole frame. Completes when the frame has left (or failed to). */
  void (*send_async) (ThecalTransport *self,
                      GBytes *frame,
                      GCancellable *cancellable,
                      GAsyncReadyCallback callback,
                      gpointer user_data);
  gboolean (*send_finish) (ThecalTransport *self, GAsyncResult *result, GError **error);

  /* Receives the next whole frame, waiting at most @timeout_ms (< 0: no limit); a timeout fails
   * with THECAL_WAND_ERROR_NO_PUMP. Frames that arrive while nobody receives are queued (bounded;
   * the oldest is dropped and counted). */
  void (*receive_async) (ThecalTransport *self,
                         gint timeout_ms,
                         GCancellable *cancellable,
                         GAsyncReadyCallback callback,
                         gpointer user_data);
  GBytes *(*receive_finish) (ThecalTransport *self, GAsyncResult *result, GError **error);

  /* Closes the link; pending operations fail with THECAL_WAND_ERROR_DISCONNECTED. Idempotent. */
  void (*close) (ThecalTransport *self);

  /* A short description for the UI and logs: "USB wand 1209:0001 (serial W123)", "Simulated pump
   * TR20-000123". */
  const char *(*describe) (ThecalTransport *self);

  /* Optional (added after the first version; NULL is fine): the GMainContext that owns the
   * transport, where its own sources run. The sync helpers iterate it. */
  GMainContext *(*get_context) (ThecalTransport *self);
};

void thecal_transport_send_async (ThecalTransport *self,
                                  GBytes *frame,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data);
gboolean thecal_transport_send_finish (ThecalTransport *self, GAsyncResult *result, GError **error);
void thecal_transport_receive_async (ThecalTransport *self,
                                     gint timeout_ms,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data);
GBytes *thecal_transport_receive_finish (ThecalTransport *self, GAsyncResult *result, GError **error);
void thecal_transport_close (ThecalTransport *self);
const char *thecal_transport_describe (ThecalTransport *self);
/* The owning context (the get_context vfunc), or NULL when the implementation does not say. */
GMainContext *thecal_transport_get_context (ThecalTransport *self);

/* Emitted (on the owning context) when the link goes away by itself (wand unplugged, pump
 * out of range for good): "disconnected" (ThecalTransport *self, const GError *reason).
 * Implementations emit it with thecal_transport_emit_disconnected (). */
void thecal_transport_emit_disconnected (ThecalTransport *self, const GError *reason);

/* Blocking convenience for tools and tests, never for the main thread of the app: runs the
 * async call and iterates the transport's own context (thecal_transport_get_context (), else
 * the calling thread's thread-default context), pushed as the thread-default context, until it
 * completes. The calling thread must be able to acquire that context (it owns it, or nobody
 * does); otherwise the call fails with THECAL_WAND_ERROR_IO. */
gboolean thecal_transport_send_sync (ThecalTransport *self, GBytes *frame, GCancellable *cancellable, GError **error);
GBytes *thecal_transport_receive_sync (ThecalTransport *self, gint timeout_ms, GCancellable *cancellable, GError **error);

G_END_DECLS
