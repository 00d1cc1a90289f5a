// `smpp` 0.5.1 ships no types and there is no @types/smpp. Kept deliberately loose (it is visible to
// the whole compilation, src included); test/peers/fake-smsc.ts narrows it to typed local interfaces.
declare module 'smpp' {
  const smpp: any;
  export default smpp;
}
