/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-usb-util.c: an emulated wand's pump and a programmer driver over a ThecalTransport.
 */
#include "config.h"

#include "test-usb-util.h"

#include <string.h>

void
usb_test_pump_relay (const guint8 *frame, gsize length, GPtrArray *answers, gpointer user_data)
{
  UsbTestPump *side = user_data;
  const uint8_t *answer = NULL;
  size_t answer_length = 0;

  /* umockdev's thread, the wand's lock held */
  g_atomic_int_inc (&side->frames);
  if (g_atomic_int_get (&side->silent))
    return;
  if (side->sim != NULL)
    {
      /* the implant lives in real time from its start: bring it up to now, then the frame */
      if (!thecal_sim_pump_advance_to (side->sim, side->sim_start_local_ms + (usb_test_now_ms () - side->sim_start_ms), NULL))
        g_error ("the simulated pump failed to advance");
      if (thecal_sim_pump_handle_frame (side->sim, frame, length, &answer, &answer_length))
        g_ptr_array_add (answers, g_bytes_new (answer, answer_length));
      return;
    }
  if (thecal_pump_role_handle (&side->role, usb_test_now_ms (), frame, length, &answer, &answer_length))
    g_ptr_array_add (answers, g_bytes_new (answer, answer_length));
}

UsbTestPump *
usb_test_pump_new_sim (ThecalSimPump *sim)
{
  UsbTestPump *side = g_new0 (UsbTestPump, 1);

  side->sim = sim;
  side->sim_start_ms = usb_test_now_ms ();
  side->sim_start_local_ms = thecal_sim_pump_now_ms (sim);
  return side;
}

void
usb_test_pump_set_silent (UsbTestPump *side, gboolean silent)
{
  g_atomic_int_set (&side->silent, silent ? 1 : 0);
}

gint
usb_test_pump_frames (UsbTestPump *side)
{
  return g_atomic_int_get (&side->frames);
}

UsbTestPump *
usb_test_pump_new (const ThecalPrescription *active)
{
  UsbTestPump *side = g_new0 (UsbTestPump, 1);
  ThecalPumpRoleConfig config;

  side->pump_seed = 0x5eed;
  thecal_fake_pump_init (&side->pump, active);
  thecal_test_role_config (&config, &side->pump, &side->pump_seed);
  g_assert_true (thecal_pump_role_init (&side->role, &config));
  return side;
}

void
usb_test_programmer_init (ThecalProgrammer *programmer,
                          uint64_t *seed,
                          gint64 retry_timeout_ms,
                          const uint8_t *key,
                          const char *serial)
{
  ThecalProgrammerConfig config;

  memset (&config, 0, sizeof config);
  config.has_key = true;
  memcpy (config.pump_key, key, THECAL_KEY_SIZE);
  g_strlcpy (config.expected_serial, serial, sizeof config.expected_serial);
  config.retry_timeout_ms = retry_timeout_ms;
  config.max_attempts = 3;
  config.random = thecal_test_random;
  config.random_data = seed;
  g_assert_true (thecal_programmer_init (programmer, &config));
}

gint64
usb_test_now_ms (void)
{
  return g_get_monotonic_time () / 1000;
}

static gboolean
usb_test_timed_out_cb (gpointer data)
{
  gboolean *timed_out = data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

gboolean
usb_test_wait (const gboolean *done, guint timeout_ms)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (timeout_ms, usb_test_timed_out_cb, &timed_out);

  /* blocks in poll (): the libusb event thread wakes the context by attaching an idle source */
  while (!*done && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  return *done;
}

void
usb_test_send_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  UsbTestCall *call = data;

  call->ok = thecal_transport_send_finish (THECAL_TRANSPORT (source), result, &call->error);
  call->done = TRUE;
}

void
usb_test_receive_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  UsbTestCall *call = data;

  call->frame = thecal_transport_receive_finish (THECAL_TRANSPORT (source), result, &call->error);
  call->done = TRUE;
}

gboolean
usb_test_send (ThecalTransport *transport, GBytes *frame, GError **error)
{
  UsbTestCall call = { 0 };

  thecal_transport_send_async (transport, frame, NULL, usb_test_send_cb, &call);
  /* a send always completes: by the wand, by its timeout or by an unplug */
  g_assert_true (usb_test_wait (&call.done, 30000));
  if (!call.ok)
    g_propagate_error (error, call.error);
  return call.ok;
}

GBytes *
usb_test_receive (ThecalTransport *transport, gint timeout_ms, GError **error)
{
  UsbTestCall call = { 0 };

  thecal_transport_receive_async (transport, timeout_ms, NULL, usb_test_receive_cb, &call);
  g_assert_true (usb_test_wait (&call.done, (guint) MAX (timeout_ms, 0) + 30000));
  if (call.frame == NULL)
    g_propagate_error (error, call.error);
  return call.frame;
}

gboolean
usb_test_run_programmer (ThecalTransport *transport, ThecalProgrammer *programmer, GError **error)
{
  while (thecal_programmer_busy (programmer))
    {
      const uint8_t *out;
      size_t length = 0;
      gint64 deadline;
      gint64 now;
      g_autoptr (GError) local = NULL;
      g_autoptr (GBytes) frame = NULL;

      while ((out = thecal_programmer_take_output (programmer, &length)) != NULL)
        {
          g_autoptr (GBytes) bytes = g_bytes_new (out, length);

          if (!usb_test_send (transport, bytes, error))
            return FALSE;
        }
      deadline = thecal_programmer_deadline (programmer);
      if (deadline == INT64_MAX)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the programmer is busy with nothing outstanding");
          return FALSE;
        }
      now = usb_test_now_ms ();
      frame = usb_test_receive (transport, (gint) CLAMP (deadline - now, 0, G_MAXINT), &local);
      if (frame != NULL)
        {
          gsize size = 0;
          const guint8 *data = g_bytes_get_data (frame, &size);

          thecal_programmer_receive (programmer, usb_test_now_ms (), data, size);
        }
      else if (g_error_matches (local, THECAL_WAND_ERROR, THECAL_WAND_ERROR_NO_PUMP))
        thecal_programmer_tick (programmer, usb_test_now_ms ());
      else
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
    }
  return TRUE;
}
