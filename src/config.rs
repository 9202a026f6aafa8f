//! Configuration: raw file structs (all optional, unknown keys rejected) resolved into
//! validated settings with defaults.
