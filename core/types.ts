/** A duration as users write it: '50ms', '10s', '2m', or a number of milliseconds. */
export type Duration = string | number

/** A matrix parameter value once a sweep has been expanded. */
export type Scalar = string | number | boolean

/** A value or, for a sweep, a list of values. */
export type AxisValue<T> = T | readonly T[]
