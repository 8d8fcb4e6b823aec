/* Replays a fuzz corpus directory through a libFuzzer entry point as an ordinary test:
 * every file in the directory (sorted, so runs are repeatable) is fed once. A crash or a
 * sanitizer report fails the test. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    struct dirent **ents;
    int n = scandir(argv[1], &ents, NULL, alphasort);
    if (n < 0) {
        perror(argv[1]);
        return 2;
    }
    int fed = 0;
    for (int i = 0; i < n; i++) {
        if (ents[i]->d_name[0] == '.') {
            free(ents[i]);
            continue;
        }
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[1], ents[i]->d_name);
        free(ents[i]);
        FILE *f = fopen(path, "rb");
        if (!f) continue;
        fseek(f, 0, SEEK_END);
        long len = ftell(f);
        fseek(f, 0, SEEK_SET);
        uint8_t *buf = malloc(len > 0 ? (size_t)len : 1);
        size_t got = fread(buf, 1, (size_t)len, f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, got);
        free(buf);
        fed++;
    }
    free(ents);
    printf("replayed %d inputs from %s\n", fed, argv[1]);
    return fed > 0 ? 0 : 1;
}
