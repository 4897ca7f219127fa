/* C firmware using policy-runtime-c: the policy file is linked in (policy_file.c, generated
 * by the test from a weight file), loaded into static storage, and run on the self-test's
 * observations; each line prints the status and the action's bits, as the Rust firmware's
 * self-test does. A policy trained with --observe-previous-action true (plr_obs_len gives 4)
 * also gets the torque applied at the previous step: here the previous action, 0 first. */
#include <stdint.h>

#include "policy_runtime.h"

void sh_puts(const char *s);
extern const uint8_t policy_file[];
extern const uint32_t policy_file_len;

/* Any policy fits PLR_STORAGE_SIZE bytes; a board with little RAM (the M0's 16 KiB) builds
 * with -DSTORAGE_BYTES=PLR_STORAGE_SIZE_INT8, which holds an int8 policy. */
#ifndef STORAGE_BYTES
#define STORAGE_BYTES PLR_STORAGE_SIZE
#endif
static uint8_t storage[STORAGE_BYTES] __attribute__((aligned(PLR_STORAGE_ALIGN)));

static void hex(char *out, uint32_t v) {
    for (int i = 7; i >= 0; i--, v >>= 4) out[i] = "0123456789abcdef"[v & 0xF];
}

int main(void) {
    int32_t rc = plr_load(storage, sizeof storage, policy_file, policy_file_len);
    if (rc != PLR_OK) {
        char line[] = "c-firmware: plr_load failed with -0\n";
        line[sizeof line - 3] = (char)('0' - rc);
        sh_puts(line);
        return 1;
    }
    size_t n = 0;
    if (plr_obs_len(storage, sizeof storage, &n) != PLR_OK) {
        sh_puts("c-firmware: plr_obs_len failed\n");
        return 1;
    }
    float previous = 0.0f;
    /* Upright at rest, hanging at rest, 45 degrees falling (the Rust self-test's), then one
     * non-finite observation. */
    static const uint32_t known[4][3] = {
        {0x3f800000u, 0x00000000u, 0x00000000u},
        {0xbf800000u, 0x00000000u, 0x00000000u},
        {0x3f3504f3u, 0x3f3504f3u, 0xc0000000u},
        {0x7fc00000u, 0x00000000u, 0x00000000u},
    };
    for (int k = 0; k < 4; k++) {
        float obs[PLR_OBS_MAX], action[PLR_ACT];
        for (int d = 0; d < PLR_OBS; d++) {
            union { uint32_t u; float f; } c = {known[k][d]};
            obs[d] = c.f;
        }
        obs[PLR_OBS] = previous;
        rc = plr_act(storage, sizeof storage, obs, n, action, PLR_ACT);
        previous = action[0];
        union { float f; uint32_t u; } a = {action[0]};
        char line[] = "c-firmware: status S action bits 0x00000000\n";
        line[19] = (char)('0' + rc);
        hex(line + 35, a.u);
        sh_puts(line);
    }
    sh_puts("c-firmware: PASS\n");
    return 0;
}
