/* Identifier grammar (see ident.h). */
#include "common/ident.h"

#include <string.h>

bool ident_valid(const char *t)
{
    size_t n = strnlen(t, SL_IDENT_MAX + 1);
    if (n == 0 || n > SL_IDENT_MAX) return false;
    if (t[0] == '_' || t[0] == '.' || t[n - 1] == '_' || t[n - 1] == '.') return false;
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        bool okc = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '_' || c == '.' || c == '-';
        if (!okc) return false;
        if (c == '_' && t[i + 1] == '_') return false;
    }
    return true;
}
