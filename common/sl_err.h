/* Error codes shared by every module.
 *
 * One convention everywhere: 0 is success, a negative SL_E* value is an error, and
 * sluice_strerror() gives its text. Each error maps to the action a caller should take
 * (sl_err_action), so retry loops do not grow their own ad-hoc classification. */
#ifndef SL_ERR_H
#define SL_ERR_H

typedef enum sl_err {
    SL_OK = 0,
    SL_EINVAL = -1,    /* bad argument or bad input */
    SL_ENOMEM = -2,    /* resource limit (never malloc failure: that aborts) */
    SL_EIO = -3,       /* read/write/fsync failed */
    SL_ENOENT = -4,    /* no such file / key / segment */
    SL_ECORRUPT = -5,  /* structure or checksum is wrong */
    SL_ETRUNC = -6,    /* input ends early */
    SL_EFORMAT = -7,   /* unsupported version or feature */
    SL_ETIMEDOUT = -8, /* deadline passed */
    SL_ETRANSIENT = -9, /* temporary failure of a peer; retry */
    SL_ELIMIT = -10,   /* a configured bound was exceeded */
    SL_ESTATE = -11,   /* operation illegal in the current state */
    SL_EEXIST = -12,   /* already exists */
    SL_ENOTLEADER = -13, /* ask the leader instead */
    SL_ECONFLICT = -14,  /* compare-and-set lost */
} sl_err;

typedef enum sl_err_action {
    SL_ACT_NONE = 0,
    SL_ACT_RETRY,     /* try the same thing again after a backoff */
    SL_ACT_REFRESH,   /* re-read state (leader, metadata) and retry */
    SL_ACT_PERMANENT, /* this request will never succeed */
    SL_ACT_FATAL,     /* the process cannot continue correctly */
} sl_err_action;

/* Static text for an error code; never NULL. */
const char *sluice_strerror(int err);

/* What a caller should do about err. */
sl_err_action sl_err_action_of(int err);

#endif
