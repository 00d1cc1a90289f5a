// `smpp` 0.5.1 ships no types and there is no @types/smpp. Kept deliberately loose (it is visible to
// the whole compilation, src included); each user narrows it to typed local interfaces (smpp-bind.ts, test/peers/fake-smsc.ts).
declare module 'smpp' {
  const smpp: any;
  export default smpp;
}
