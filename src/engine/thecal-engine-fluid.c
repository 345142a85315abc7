/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-engine-fluid.c: the reservoir's actual volume and the fluid in the dead space.
 *
 * The internal and catheter volumes form one first-in-first-out path of parcels {volume, drug,
 * concentration}, parcels[0] at the catheter tip (docs/engine.md "Fluid path"). Each stroke's
 * actual volume enters from the reservoir and the same volume leaves at the tip (the fluid is
 * incompressible; no mixing is modelled, plug flow). The drug delivered to the patient is what
 * leaves the tip, so a new concentration reaches the patient only after the whole dead space has
 * been pushed through (CLINICAL.md §1.4). Adjacent parcels of the same fluid merge, so the number
 * of parcels is the number of reservoir changes still inside the path.
 */
#include "config.h"

#include "thecal-engine-private.h"

#include <string.h>

int32_t
_thecal_fluid_drug_slot (ThecalEngine *engine, const char *drug_id)
{
  const char *id = drug_id != NULL ? drug_id : "";
  int32_t slot;

  for (int32_t i = 0; i < engine->n_drugs; i++)
    if (strcmp (engine->drugs[i].id, id) == 0)
      return i;
  if (strlen (id) >= THECAL_ID_MAX)
    return -1;
  if (engine->n_drugs < THECAL_ENGINE_DRUGS_MAX)
    slot = engine->n_drugs++;
  else
    {
      /* Full: reuse a slot whose fluid is gone (not in the reservoir, not in the path). Its
       * delivered totals start again from 0 (docs/engine.md). */
      slot = -1;
      for (int32_t i = 1; i < engine->n_drugs && slot < 0; i++)
        {
          bool used = engine->reservoir_drug == i;

          for (int32_t j = 0; j < engine->n_parcels && !used; j++)
            used = engine->parcels[j].drug == i;
          if (!used)
            slot = i;
        }
      if (slot < 0)
        return -1;
    }
  memset (&engine->drugs[slot], 0, sizeof engine->drugs[slot]);
  memcpy (engine->drugs[slot].id, id, strlen (id) + 1);
  return slot;
}

void
_thecal_fluid_fill_path (ThecalEngine *engine, int32_t drug, int64_t concentration_ng_per_ml)
{
  memset (engine->parcels, 0, sizeof engine->parcels);
  engine->n_parcels = 0;
  if (engine->dead_space_nl <= 0)
    return;
  engine->parcels[0].volume_nl = engine->dead_space_nl;
  engine->parcels[0].concentration_ng_per_ml = concentration_ng_per_ml;
  engine->parcels[0].drug = drug;
  engine->n_parcels = 1;
}

/* Credits @volume_nl of @drug at @concentration to the patient; returns the whole ng added. */
static int64_t
deliver (ThecalEngine *engine, int32_t drug, int64_t concentration_ng_per_ml, int64_t volume_nl)
{
  ThecalEngineDrug *d = &engine->drugs[drug];
  /* volume < 2^63 and concentration < 2^63: the product and the remainder fit in 127 bits */
  ThecalWide total = (ThecalWide) volume_nl * concentration_ng_per_ml + d->delivered_rem;
  int64_t ng = (int64_t) (total / THECAL_NL_PER_ML); /* the ng a realistic delivery adds fits */

  d->delivered_rem = (int64_t) (total % THECAL_NL_PER_ML);
  d->delivered_ng += ng;
  d->delivered_nl += volume_nl;
  engine->tip_nl += volume_nl;
  return ng;
}

static void
remove_parcel (ThecalEngine *engine, int32_t index)
{
  memmove (&engine->parcels[index], &engine->parcels[index + 1],
           (size_t) (engine->n_parcels - index - 1) * sizeof engine->parcels[0]);
  engine->n_parcels--;
  memset (&engine->parcels[engine->n_parcels], 0, sizeof engine->parcels[0]);
}

/* The path is full of distinct parcels: merge two so that one more fits. Two neighbours of the
 * same drug merge into their volume-weighted concentration (what mixing would give, rounded by
 * the rule); without such a pair the smallest parcel joins its tip-side neighbour. Reaching this
 * takes 32 reservoir changes inside one dead-space transit (docs/engine.md). */
static void
make_room (ThecalEngine *engine)
{
  int32_t best = -1;
  int64_t best_volume = INT64_MAX;

  for (int32_t i = 0; i + 1 < engine->n_parcels; i++)
    {
      const ThecalEngineParcel *a = &engine->parcels[i], *b = &engine->parcels[i + 1];

      if (a->drug == b->drug && a->volume_nl + b->volume_nl < best_volume)
        {
          best = i;
          best_volume = a->volume_nl + b->volume_nl;
        }
    }
  if (best >= 0)
    {
      ThecalEngineParcel *a = &engine->parcels[best], *b = &engine->parcels[best + 1];
      ThecalWide amount = (ThecalWide) a->volume_nl * a->concentration_ng_per_ml
                          + (ThecalWide) b->volume_nl * b->concentration_ng_per_ml;
      /* the volume-weighted mean of two concentrations lies between them: it fits */
      a->concentration_ng_per_ml = (int64_t) _thecal_wide_div (amount, best_volume, THECAL_ENGINE_RULE);
      a->volume_nl = best_volume;
      remove_parcel (engine, best + 1);
      return;
    }
  for (int32_t i = 1; i < engine->n_parcels; i++)
    if (engine->parcels[i].volume_nl < best_volume)
      {
        best = i;
        best_volume = engine->parcels[i].volume_nl;
      }
  engine->parcels[best - 1].volume_nl += best_volume;
  remove_parcel (engine, best);
}

int64_t
_thecal_fluid_push (ThecalEngine *engine, int64_t volume_nl)
{
  int64_t ng = 0, left = volume_nl;
  ThecalEngineParcel *tail;

  if (volume_nl <= 0)
    return 0;
  tail = engine->n_parcels > 0 ? &engine->parcels[engine->n_parcels - 1] : NULL;
  if (tail != NULL && tail->drug == engine->reservoir_drug
      && tail->concentration_ng_per_ml == engine->reservoir_concentration_ng_per_ml)
    tail->volume_nl += volume_nl;
  else
    {
      if (engine->n_parcels == THECAL_ENGINE_PARCELS_MAX)
        make_room (engine);
      tail = &engine->parcels[engine->n_parcels++];
      tail->volume_nl = volume_nl;
      tail->concentration_ng_per_ml = engine->reservoir_concentration_ng_per_ml;
      tail->drug = engine->reservoir_drug;
      tail->reserved = 0;
    }
  /* the same volume leaves at the tip, oldest fluid first */
  while (left > 0 && engine->n_parcels > 0)
    {
      ThecalEngineParcel *head = &engine->parcels[0];
      int64_t take = head->volume_nl < left ? head->volume_nl : left;

      ng += deliver (engine, head->drug, head->concentration_ng_per_ml, take);
      head->volume_nl -= take;
      left -= take;
      if (head->volume_nl == 0)
        remove_parcel (engine, 0);
    }
  return ng;
}

static int64_t
removed_by (const ThecalEngine *engine, int64_t moved_strokes)
{
  ThecalWide nominal = (ThecalWide) moved_strokes * engine->model.stroke_volume_nl;

  /* the rule: nearest, exact halves toward zero (the product is ≥ 0: the bias is above −100 %) */
  return (int64_t) _thecal_wide_div (nominal * (THECAL_BP_WHOLE + engine->bias_bp), THECAL_BP_WHOLE, THECAL_ENGINE_RULE);
}

int64_t
_thecal_fluid_bias_removal (const ThecalEngine *engine, int64_t k)
{
  return removed_by (engine, engine->moved_strokes + k) - removed_by (engine, engine->moved_strokes);
}
