/** A value made once per object (a D1 handle, a binding) and kept as long as that object lives. */
export function perObject<K extends object, V>(make: (owner: K) => V): (owner: K) => V {
  const values = new WeakMap<K, V>()
  return (owner) => {
    let value = values.get(owner)
    if (value === undefined) values.set(owner, (value = make(owner)))
    return value
  }
}
