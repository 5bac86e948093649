/*  exact.h: exact integer arithmetic for squares and their sums.

    A task value is a signed 64-bit integer; its square always fits an unsigned
    128-bit integer. A job has at most 2^64 tasks, so the sum of its squares
    fits 192 bits; we keep it in 256 so that no job we accept can overflow it.
    Everything here is pure and allocation-free: it is on the per-task path.
*/
#ifndef DV_EXACT_H_INCLUDED
#define DV_EXACT_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

__extension__ typedef unsigned __int128 dv_u128_t;

//  256-bit unsigned integer, limb[0] least significant.
typedef struct {
    uint64_t limb[4];
} dv_u256_t;

//  Longest decimal text of each type, without the terminating NUL.
#define DV_I64_TEXT_MAX  20
#define DV_U128_TEXT_MAX 39
#define DV_U256_TEXT_MAX 78

//  The exact square of value.
static inline dv_u128_t
dv_square (int64_t value)
{
    uint64_t magnitude = value < 0 ? -(uint64_t) value : (uint64_t) value;
    return (dv_u128_t) magnitude * magnitude;
}

//  Adds addend to *sum. Wraps only past 2^256, which no job can reach.
static inline void
dv_u256_add_u128 (dv_u256_t *sum, dv_u128_t addend)
{
    uint64_t low = (uint64_t) addend;
    uint64_t high = (uint64_t) (addend >> 64);
    uint64_t carry;
    sum->limb[0] += low;
    carry = sum->limb[0] < low;
    sum->limb[1] += high;
    uint64_t carry_high = sum->limb[1] < high;
    sum->limb[1] += carry;
    carry_high |= sum->limb[1] < carry;
    sum->limb[2] += carry_high;
    sum->limb[3] += sum->limb[2] < carry_high;
}

//  Adds addend to *sum, modulo 2^256.
void dv_u256_add (dv_u256_t *sum, const dv_u256_t *addend);

//  True when a and b are equal.
bool dv_u256_equal (const dv_u256_t *a, const dv_u256_t *b);

//  Writes value in decimal at text, NUL-terminated; text must hold the type's
//  _TEXT_MAX + 1 bytes. Returns the number of digits (and sign) written.
size_t dv_i64_format (int64_t value, char *text);
size_t dv_u64_format (uint64_t value, char *text);
size_t dv_u128_format (dv_u128_t value, char *text);
size_t dv_u256_format (const dv_u256_t *value, char *text);

//  The sum of the squares of count consecutive values from start, by the closed
//  form (no loop), for checking a range job. The caller makes sure the range
//  fits int64 (start + count - 1 <= INT64_MAX).
dv_u256_t dv_range_sum_of_squares (int64_t start, uint64_t count);

#endif
