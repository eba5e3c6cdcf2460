/** Absolute path of the directory holding `luaipc/errors.h`, `luaipc/waiter.h`, `luaipc/handle.h`. */
export declare const include: string;
/** Absolute path of `luaipc_addon.cmake`, which defines `luaipc_add_addon(<name> SOURCES ... POSIX ... WINDOWS ...)`. */
export declare const cmake: string;
