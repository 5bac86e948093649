/*  exact.c: 128- and 256-bit decimal printing and the closed-form range sum.

    Printing runs once per result line when the sink is not quiet, so it
    counts the digits first and writes them in place, backwards, two at a
    time from a table; a 128-bit value that fits 64 bits (every square of a
    value under 2^32) takes the 64-bit path, a larger one splits into
    19-digit chunks with one or two 128-bit divisions.
*/
#include "exact.h"

#include <string.h>

#define S_TEN_POW_19 10000000000000000000ULL

//  "00" "01" ... "99": two digits per table read, half the divisions.
static const char s_pairs[201] = "00010203040506070809"
                                 "10111213141516171819"
                                 "20212223242526272829"
                                 "30313233343536373839"
                                 "40414243444546474849"
                                 "50515253545556575859"
                                 "60616263646566676869"
                                 "70717273747576777879"
                                 "80818283848586878889"
                                 "90919293949596979899";

//  The number of decimal digits of value (1 for 0).
static inline size_t
s_u64_digit_count (uint64_t value)
{
    size_t count = 1;
    while (value >= 10000) {
        value /= 10000;
        count += 4;
    }
    return count + (value >= 10) + (value >= 100) + (value >= 1000);
}

//  Writes the length digits of value (zero-padded on the left to length)
//  ending at end, two at a time.
static inline void
s_u64_digits_backwards (uint64_t value, char *end, size_t length)
{
    char *start = end - length;
    while (end - start >= 2) {
        const char *pair = s_pairs + 2 * (value % 100);
        value /= 100;
        *--end = pair[1];
        *--end = pair[0];
    }
    if (end > start)
        *--end = (char) ('0' + value % 10);
}

size_t
dv_u64_format (uint64_t value, char *text)
{
    size_t length = s_u64_digit_count (value);
    s_u64_digits_backwards (value, text + length, length);
    text[length] = '\0';
    return length;
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
    if (value <= UINT64_MAX)
        return dv_u64_format ((uint64_t) value, text);
    //  At most 39 digits: a head of 1..20 and one or two 19-digit chunks.
    uint64_t low = (uint64_t) (value % S_TEN_POW_19);
    value /= S_TEN_POW_19;
    uint64_t middle = 0;
    bool three = value > UINT64_MAX;
    if (three) {
        middle = (uint64_t) (value % S_TEN_POW_19);
        value /= S_TEN_POW_19;
    }
    size_t length = dv_u64_format ((uint64_t) value, text);
    if (three) {
        s_u64_digits_backwards (middle, text + length + 19, 19);
        length += 19;
    }
    s_u64_digits_backwards (low, text + length + 19, 19);
    length += 19;
    text[length] = '\0';
    return length;
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
    //  19-digit chunks, least significant first, then written out in order.
    uint64_t chunks[(DV_U256_TEXT_MAX + 18) / 19];
    size_t count = 0;
    dv_u256_t rest = *value;
    do
        chunks[count++] = s_u256_divide_small (&rest, S_TEN_POW_19);
    while (!s_u256_is_zero (&rest));
    size_t length = dv_u64_format (chunks[--count], text);
    while (count--) {
        s_u64_digits_backwards (chunks[count], text + length + 19, 19);
        length += 19;
    }
    text[length] = '\0';
    return length;
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
