/* policy-runtime-c from C: load a weight file into caller storage and act.
 * Host build (what the test runs):
 *   cc -O2 -I policy-runtime-c/include policy-runtime-c/examples/plr_example.c \
 *      target/release/libpolicy_runtime_c.a -lpthread -ldl -lm -o plr_example
 *   ./plr_example policies/pendulum.postcard
 * prints one line per observation: the inputs' bits, the status code and the action's bits.
 * A policy trained with --observe-previous-action true (plr_obs_len gives 4) also takes the
 * torque applied at the previous step: here the previous action, 0 at the start. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "policy_runtime.h"

static uint8_t storage[PLR_STORAGE_SIZE] __attribute__((aligned(PLR_STORAGE_ALIGN)));
static uint8_t file[65536];

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s POLICY_FILE\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    size_t len = fread(file, 1, sizeof file, f);
    fclose(f);
    int32_t rc = plr_load(storage, sizeof storage, file, len);
    if (rc != PLR_OK) {
        fprintf(stderr, "plr_load: error %d\n", (int)rc);
        return 1;
    }
    size_t n = 0;
    rc = plr_obs_len(storage, sizeof storage, &n);
    if (rc != PLR_OK) {
        fprintf(stderr, "plr_obs_len: error %d\n", (int)rc);
        return 1;
    }
    float obs[PLR_OBS_MAX];
    float previous = 0.0f; /* the torque applied at the previous step (4-input policies) */
    for (int i = 0; i < 40; i++) {
        for (int k = 0; k < 5; k++) {
            static const float w[5] = {-8.0f, -1.5f, 0.0f, 0.7f, 8.0f};
            float th = -3.2f + 0.16f * (float)i;
            /* The observation is given as exact bits by the caller in a real loop; here
             * it is computed once and printed with the action, so the test can replay it. */
            obs[0] = __builtin_cosf(th);
            obs[1] = __builtin_sinf(th);
            obs[2] = w[k];
            obs[3] = previous;
            float action[PLR_ACT];
            rc = plr_act(storage, sizeof storage, obs, n, action, PLR_ACT);
            previous = action[0];
            for (size_t d = 0; d < n; d++) {
                uint32_t o;
                memcpy(&o, &obs[d], sizeof o);
                printf("%08x ", o);
            }
            uint32_t a;
            memcpy(&a, action, sizeof a);
            printf("%d %08x\n", (int)rc, a);
        }
    }
    return 0;
}
