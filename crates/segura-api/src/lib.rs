//! segura-api (work in progress).
