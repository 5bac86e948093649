/*  exact.c: 128- and 256-bit decimal printing and the closed-form range sum.

    Printing runs once per result line when the sink is not quiet, so it writes
    digits backwards into a small stack buffer and copies once; the 128-bit
    case splits into 19-digit chunks so that most divisions are 64-bit.
*/
#include "exact.h"

#include <string.h>

#define S_TEN_POW_19 10000000000000000000ULL

//  Writes the digits of value backwards ending at end; returns the new start.
static char *
s_u64_digits_backwards (uint64_t value, char *end)
{
    do {
        *--end = (char) ('0' + value % 10);
        value /= 10;
    } while (value);
    return end;
}

//  Like s_u64_digits_backwards but always writes exactly 19 digits.
static char *
s_u64_19_digits_backwards (uint64_t value, char *end)
{
    for (int digit = 0; digit < 19; digit++) {
        *--end = (char) ('0' + value % 10);
        value /= 10;
    }
    return end;
}

static size_t
s_copy_out (const char *start, const char *end, char *text)
{
    size_t length = (size_t) (end - start);
    memcpy (text, start, length);
    text[length] = '\0';
    return length;
}

size_t
dv_u64_format (uint64_t value, char *text)
{
    char digits[DV_I64_TEXT_MAX];
    char *end = digits + sizeof digits;
    return s_copy_out (s_u64_digits_backwards (value, end), end, text);
}

size_t
dv_i64_format (int64_t value, char *text)
{
    if (value >= 0)
        return dv_u64_format ((uint64_t) value, text);
    text[0] = '-';
    return 1 + dv_u64_format (-(uint64_t) value, text + 1);
}

size_t
dv_u128_format (dv_u128_t value, char *text)
{
    char digits[DV_U128_TEXT_MAX];
    char *end = digits + sizeof digits;
    char *start = end;
    while (value >= S_TEN_POW_19) {
        start = s_u64_19_digits_backwards ((uint64_t) (value % S_TEN_POW_19), start);
        value /= S_TEN_POW_19;
    }
    start = s_u64_digits_backwards ((uint64_t) value, start);
    return s_copy_out (start, end, text);
}

//  Divides *value by divisor in place and returns the remainder.
static uint64_t
s_u256_divide_small (dv_u256_t *value, uint64_t divisor)
{
    dv_u128_t remainder = 0;
    for (int limb = 3; limb >= 0; limb--) {
        dv_u128_t current = (remainder << 64) | value->limb[limb];
        value->limb[limb] = (uint64_t) (current / divisor);
        remainder = current % divisor;
    }
    return (uint64_t) remainder;
}

static bool
s_u256_is_zero (const dv_u256_t *value)
{
    return !(value->limb[0] | value->limb[1] | value->limb[2] | value->limb[3]);
}

size_t
dv_u256_format (const dv_u256_t *value, char *text)
{
    char digits[DV_U256_TEXT_MAX + 19];
    char *end = digits + sizeof digits;
    char *start = end;
    dv_u256_t rest = *value;
    while (true) {
        uint64_t chunk = s_u256_divide_small (&rest, S_TEN_POW_19);
        if (s_u256_is_zero (&rest)) {
            start = s_u64_digits_backwards (chunk, start);
            break;
        }
        start = s_u64_19_digits_backwards (chunk, start);
    }
    return s_copy_out (start, end, text);
}

void
dv_u256_add (dv_u256_t *sum, const dv_u256_t *addend)
{
    uint64_t carry = 0;
    for (int limb = 0; limb < 4; limb++) {
        dv_u128_t total = (dv_u128_t) sum->limb[limb] + addend->limb[limb] + carry;
        sum->limb[limb] = (uint64_t) total;
        carry = (uint64_t) (total >> 64);
    }
}

bool
dv_u256_equal (const dv_u256_t *a, const dv_u256_t *b)
{
    return memcmp (a->limb, b->limb, sizeof a->limb) == 0;
}

//  *value *= factor, modulo 2^256.
static void
s_u256_multiply_small (dv_u256_t *value, uint64_t factor)
{
    uint64_t carry = 0;
    for (int limb = 0; limb < 4; limb++) {
        dv_u128_t product = (dv_u128_t) value->limb[limb] * factor + carry;
        value->limb[limb] = (uint64_t) product;
        carry = (uint64_t) (product >> 64);
    }
}

static dv_u256_t
s_u256_from_u64 (uint64_t value)
{
    dv_u256_t result = {{value, 0, 0, 0}};
    return result;
}

static void
s_u256_negate (dv_u256_t *value)
{
    for (int limb = 0; limb < 4; limb++)
        value->limb[limb] = ~value->limb[limb];
    dv_u256_t one = s_u256_from_u64 (1);
    dv_u256_add (value, &one);
}

//  sum over i in [0, n) of (s + i)^2 = n*s^2 + s*n*(n-1) + (n-1)*n*(2n-1)/6,
//  evaluated in 256-bit two's complement: the middle term is negative when s
//  is, and the total is the true (non-negative) sum, well under 2^192.
dv_u256_t
dv_range_sum_of_squares (int64_t start, uint64_t count)
{
    if (count == 0)
        return s_u256_from_u64 (0);
    uint64_t magnitude = start < 0 ? -(uint64_t) start : (uint64_t) start;

    dv_u256_t squares_term = s_u256_from_u64 (magnitude);
    s_u256_multiply_small (&squares_term, magnitude);
    s_u256_multiply_small (&squares_term, count);

    dv_u256_t cross_term = s_u256_from_u64 (count);
    s_u256_multiply_small (&cross_term, count - 1);
    s_u256_multiply_small (&cross_term, magnitude);
    if (start < 0)
        s_u256_negate (&cross_term);

    //  (n-1)*n*(2n-1) is always divisible by 6; 2n-1 may exceed 64 bits, so
    //  multiply by n twice-over as (2n - 1) = n + (n - 1).
    dv_u256_t cubic_term = s_u256_from_u64 (count);
    s_u256_multiply_small (&cubic_term, count - 1);
    dv_u256_t twice = cubic_term;
    s_u256_multiply_small (&cubic_term, count);
    s_u256_multiply_small (&twice, count - 1);
    dv_u256_add (&cubic_term, &twice);
    s_u256_divide_small (&cubic_term, 6);

    dv_u256_t sum = squares_term;
    dv_u256_add (&sum, &cross_term);
    dv_u256_add (&sum, &cubic_term);
    return sum;
}
