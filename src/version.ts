/** kvdb's version, as `kvdb --version`, the start line and kvdb_build_info say it. */
export const VERSION = "0.1.0";
