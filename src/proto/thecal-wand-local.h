/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-wand-local.h: what the wand answers itself (docs/protocol.md "Wand-local messages").
 *
 * WAND_INFO and WAND_LINK are for the wand, not the pump: never encrypted, never relayed. A
 * wand (real firmware, or src/wand's emulation) passes every frame from the programmer through
 * thecal_wand_local_answer: true means "answered here, send @out back"; false means "relay the
 * frame to the pump unchanged".
 */
#pragma once

#include "thecal-message.h"

#ifdef __cplusplus
extern "C"
{
#endif

  bool thecal_wand_local_answer (const uint8_t *frame,
                                 size_t frame_length,
                                 const ThecalWandInfo *info,
                                 const ThecalWandLink *link,
                                 uint8_t *out,
                                 size_t capacity,
                                 size_t *out_length);

#ifdef __cplusplus
}
#endif
