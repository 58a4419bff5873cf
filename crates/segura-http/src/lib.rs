//! segura-http (work in progress).
