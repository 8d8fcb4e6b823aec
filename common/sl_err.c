/* Error texts and the error -> action map (see sl_err.h). */
#include "common/sl_err.h"

const char *sluice_strerror(int err)
{
    switch ((sl_err)err) {
    case SL_OK: return "success";
    case SL_EINVAL: return "invalid argument or input";
    case SL_ENOMEM: return "resource limit reached";
    case SL_EIO: return "I/O error";
    case SL_ENOENT: return "not found";
    case SL_ECORRUPT: return "corrupt data";
    case SL_ETRUNC: return "truncated data";
    case SL_EFORMAT: return "unsupported format or version";
    case SL_ETIMEDOUT: return "timed out";
    case SL_ETRANSIENT: return "transient failure";
    case SL_ELIMIT: return "limit exceeded";
    case SL_ESTATE: return "illegal in current state";
    case SL_EEXIST: return "already exists";
    case SL_ENOTLEADER: return "not the leader";
    case SL_ECONFLICT: return "concurrent modification";
    }
    return "unknown error";
}

sl_err_action sl_err_action_of(int err)
{
    switch ((sl_err)err) {
    case SL_OK: return SL_ACT_NONE;
    case SL_ETIMEDOUT:
    case SL_ETRANSIENT:
    case SL_EIO: return SL_ACT_RETRY;
    case SL_ENOTLEADER:
    case SL_ECONFLICT: return SL_ACT_REFRESH;
    case SL_ENOMEM: return SL_ACT_FATAL;
    default: return SL_ACT_PERMANENT;
    }
}
