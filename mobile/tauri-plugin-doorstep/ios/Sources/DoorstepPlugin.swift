import CoreNFC
import CryptoKit
import DeviceCheck
import Foundation
import Security
import Tauri

class ApduArgs: Decodable {
  let apdu: String
}

class KeyArgs: Decodable {
  let alias: String
  let challenge: String?
  let message: String?
}

/// Moves bytes between iOS and the app's Rust side: the reader's APDUs (Core NFC) and the
/// device key in the Secure Enclave. It decides nothing. An iPhone is never the door card:
/// iOS card emulation is reserved for uses Apple approves; the agent uses QR codes.
class DoorstepPlugin: Plugin, NFCTagReaderSessionDelegate {
  var session: NFCTagReaderSession?
  var tag: NFCISO7816Tag?
  var waitingForTag: Invoke?

  // The door card: not on iOS.

  @objc public func cardEnable(_ invoke: Invoke) {
    invoke.reject("card emulation is not available on iOS")
  }

  @objc public func cardRespond(_ invoke: Invoke) {
    invoke.reject("card emulation is not available on iOS")
  }

  @objc public func cardDisable(_ invoke: Invoke) {
    invoke.resolve()
  }

  // The reader (customer).

  @objc public func readerStart(_ invoke: Invoke) {
    guard NFCTagReaderSession.readingAvailable else {
      invoke.reject("NFC is not available")
      return
    }
    waitingForTag = invoke
    session = NFCTagReaderSession(pollingOption: [.iso14443], delegate: self, queue: nil)
    session?.alertMessage = "Hold your iPhone to the agent's phone."
    session?.begin()
  }

  func tagReaderSessionDidBecomeActive(_ session: NFCTagReaderSession) {}

  func tagReaderSession(_ session: NFCTagReaderSession, didInvalidateWithError error: Error) {
    waitingForTag?.reject(error.localizedDescription)
    waitingForTag = nil
    tag = nil
  }

  func tagReaderSession(_ session: NFCTagReaderSession, didDetect tags: [NFCTag]) {
    guard case let .iso7816(found)? = tags.first else {
      waitingForTag?.reject("not an ISO 7816 card")
      waitingForTag = nil
      return
    }
    session.connect(to: tags[0]) { error in
      if let error = error {
        self.waitingForTag?.reject(error.localizedDescription)
      } else {
        self.tag = found
        self.waitingForTag?.resolve()
      }
      self.waitingForTag = nil
    }
  }

  @objc public func readerTransceive(_ invoke: Invoke) throws {
    let args = try invoke.parseArgs(ApduArgs.self)
    guard let tag = tag, let data = Data(base64Encoded: args.apdu),
      let apdu = NFCISO7816APDU(data: data)
    else {
      invoke.reject("no card in the field")
      return
    }
    tag.sendCommand(apdu: apdu) { response, sw1, sw2, error in
      if let error = error {
        invoke.reject(error.localizedDescription)
        return
      }
      var reply = response
      reply.append(contentsOf: [sw1, sw2])
      invoke.resolve(["apdu": reply.base64EncodedString()])
    }
  }

  @objc public func readerStop(_ invoke: Invoke) {
    session?.invalidate()
    session = nil
    tag = nil
    invoke.resolve()
  }

  // The device key in the Secure Enclave.

  private func tagData(_ alias: String) -> Data {
    return "app.doorstep.key.\(alias)".data(using: .utf8)!
  }

  private func privateKey(_ alias: String) -> SecKey? {
    let query: [String: Any] = [
      kSecClass as String: kSecClassKey,
      kSecAttrApplicationTag as String: tagData(alias),
      kSecAttrKeyType as String: kSecAttrKeyTypeECSECPrimeRandom,
      kSecReturnRef as String: true,
    ]
    var item: CFTypeRef?
    guard SecItemCopyMatching(query as CFDictionary, &item) == errSecSuccess else { return nil }
    return (item as! SecKey)
  }

  private func publicKeyData(_ key: SecKey) -> Data? {
    guard let publicKey = SecKeyCopyPublicKey(key) else { return nil }
    return SecKeyCopyExternalRepresentation(publicKey, nil) as Data?
  }

  @objc public func keyCreate(_ invoke: Invoke) throws {
    let args = try invoke.parseArgs(KeyArgs.self)
    guard
      let access = SecAccessControlCreateWithFlags(
        nil, kSecAttrAccessibleWhenUnlockedThisDeviceOnly, [.privateKeyUsage, .userPresence], nil)
    else {
      invoke.reject("no access control")
      return
    }
    let attributes: [String: Any] = [
      kSecAttrKeyType as String: kSecAttrKeyTypeECSECPrimeRandom,
      kSecAttrKeySizeInBits as String: 256,
      kSecAttrTokenID as String: kSecAttrTokenIDSecureEnclave,
      kSecPrivateKeyAttrs as String: [
        kSecAttrIsPermanent as String: true,
        kSecAttrApplicationTag as String: tagData(args.alias),
        kSecAttrAccessControl as String: access,
      ],
    ]
    // One key per alias: an earlier one (made at first start) goes before the new one is made.
    SecItemDelete(
      [
        kSecClass as String: kSecClassKey,
        kSecAttrApplicationTag as String: tagData(args.alias),
      ] as CFDictionary)
    var error: Unmanaged<CFError>?
    guard let key = SecKeyCreateRandomKey(attributes as CFDictionary, &error),
      let publicKey = publicKeyData(key)
    else {
      invoke.reject(error?.takeRetainedValue().localizedDescription ?? "the key could not be made")
      return
    }
    var reply: [String: Any] = ["publicKey": publicKey.base64EncodedString(), "chain": [String]()]
    // App Attest vouches for this app on genuine hardware, over the enrolment's challenge.
    let service = DCAppAttestService.shared
    guard service.isSupported, let challenge = args.challenge.flatMap({ Data(base64Encoded: $0) })
    else {
      invoke.resolve(reply)
      return
    }
    service.generateKey { keyId, _ in
      guard let keyId = keyId else {
        invoke.resolve(reply)
        return
      }
      let hash = Data(SHA256.hash(data: challenge))
      service.attestKey(keyId, clientDataHash: hash) { attestation, _ in
        if let attestation = attestation {
          reply["appAttestKeyId"] = keyId
          reply["appAttest"] = attestation.base64EncodedString()
        }
        invoke.resolve(reply)
      }
    }
  }

  @objc public func keyPublic(_ invoke: Invoke) throws {
    let args = try invoke.parseArgs(KeyArgs.self)
    if let key = privateKey(args.alias), let data = publicKeyData(key) {
      invoke.resolve(["publicKey": data.base64EncodedString()])
    } else {
      invoke.resolve([:])
    }
  }

  @objc public func keySign(_ invoke: Invoke) throws {
    let args = try invoke.parseArgs(KeyArgs.self)
    guard let key = privateKey(args.alias), let message = args.message.flatMap({ Data(base64Encoded: $0) })
    else {
      invoke.reject("no such key")
      return
    }
    var error: Unmanaged<CFError>?
    guard
      let signature = SecKeyCreateSignature(
        key, .ecdsaSignatureMessageX962SHA256, message as CFData, &error) as Data?
    else {
      let cause = error?.takeRetainedValue()
      // The person cancelled or failed the prompt: the app asks again.
      invoke.reject(cause.map { CFErrorGetCode($0) == -128 ? "notAuthenticated" : $0.localizedDescription } ?? "the key could not sign")
      return
    }
    invoke.resolve(["signature": signature.base64EncodedString()])
  }
}

@_cdecl("init_plugin_doorstep")
func initPlugin() -> Plugin {
  return DoorstepPlugin()
}
