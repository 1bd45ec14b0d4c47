package app.doorstep.plugin

import android.app.Activity
import android.content.ComponentName
import android.nfc.NfcAdapter
import android.nfc.Tag
import android.nfc.cardemulation.CardEmulation
import android.nfc.tech.IsoDep
import android.os.Build
import android.os.Handler
import android.os.Looper
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import android.security.keystore.StrongBoxUnavailableException
import android.security.keystore.UserNotAuthenticatedException
import android.util.Base64
import app.tauri.annotation.Command
import app.tauri.annotation.InvokeArg
import app.tauri.annotation.TauriPlugin
import app.tauri.plugin.Channel
import app.tauri.plugin.Invoke
import app.tauri.plugin.JSArray
import app.tauri.plugin.JSObject
import app.tauri.plugin.Plugin
import java.security.KeyPairGenerator
import java.security.KeyStore
import java.security.Signature
import java.security.spec.ECGenParameterSpec
import java.util.concurrent.Executors

@InvokeArg
class CardArgs {
  lateinit var apdus: Channel
}

@InvokeArg
class ApduArgs {
  lateinit var apdu: String
}

@InvokeArg
class KeyArgs {
  lateinit var alias: String
  var challenge: String? = null
  var message: String? = null
}

private fun bytes(text: String): ByteArray = Base64.decode(text, Base64.NO_WRAP)
private fun text(bytes: ByteArray): String = Base64.encodeToString(bytes, Base64.NO_WRAP)

/**
 * Moves bytes between Android and the app's Rust side: APDUs of the door card and of the
 * reader, and the device key's public key, attestation chain and signatures. It decides
 * nothing.
 */
@TauriPlugin
class DoorstepPlugin(private val activity: Activity) : Plugin(activity) {
  private val io = Executors.newSingleThreadExecutor()
  private var isoDep: IsoDep? = null
  private var waitingForTag: Invoke? = null

  private fun adapter(): NfcAdapter? = NfcAdapter.getDefaultAdapter(activity)

  // The door card (agent).

  @Command
  fun cardEnable(invoke: Invoke) {
    val args = invoke.parseArgs(CardArgs::class.java)
    val adapter = adapter() ?: return invoke.reject("NFC is not available")
    DoorCardService.toRust = args.apdus
    CardEmulation.getInstance(adapter)
      .setPreferredService(activity, ComponentName(activity, DoorCardService::class.java))
    invoke.resolve()
  }

  @Command
  fun cardRespond(invoke: Invoke) {
    DoorCardService.respond(bytes(invoke.parseArgs(ApduArgs::class.java).apdu))
    invoke.resolve()
  }

  @Command
  fun cardDisable(invoke: Invoke) {
    DoorCardService.toRust = null
    adapter()?.let { CardEmulation.getInstance(it).unsetPreferredService(activity) }
    invoke.resolve()
  }

  // The reader (customer).

  @Command
  fun readerStart(invoke: Invoke) {
    val adapter = adapter() ?: return invoke.reject("NFC is not available")
    waitingForTag = invoke
    adapter.enableReaderMode(
      activity,
      { tag: Tag ->
        val waiting = waitingForTag ?: return@enableReaderMode
        waitingForTag = null
        val dep = IsoDep.get(tag) ?: return@enableReaderMode waiting.reject("not an ISO-DEP card")
        try {
          dep.connect()
          dep.timeout = 5000
          isoDep = dep
          waiting.resolve()
        } catch (e: Exception) {
          waiting.reject(e.message ?: "connect failed")
        }
      },
      NfcAdapter.FLAG_READER_NFC_A or NfcAdapter.FLAG_READER_NFC_B or NfcAdapter.FLAG_READER_SKIP_NDEF_CHECK,
      null,
    )
    // Nobody held a phone to this one: give up, as iOS's reader session does on its own.
    Handler(Looper.getMainLooper()).postDelayed({
      if (waitingForTag === invoke) {
        waitingForTag = null
        adapter.disableReaderMode(activity)
        invoke.reject("no card came into the field")
      }
    }, 20_000)
  }

  @Command
  fun readerTransceive(invoke: Invoke) {
    val apdu = bytes(invoke.parseArgs(ApduArgs::class.java).apdu)
    val dep = isoDep ?: return invoke.reject("no card in the field")
    io.execute {
      try {
        invoke.resolve(JSObject().put("apdu", text(dep.transceive(apdu))))
      } catch (e: Exception) {
        invoke.reject(e.message ?: "the link was lost")
      }
    }
  }

  @Command
  fun readerStop(invoke: Invoke) {
    try { isoDep?.close() } catch (_: Exception) {}
    isoDep = null
    waitingForTag?.reject("stopped")
    waitingForTag = null
    adapter()?.disableReaderMode(activity)
    invoke.resolve()
  }

  // The device key in Android Keystore.

  private fun keyStore(): KeyStore = KeyStore.getInstance("AndroidKeyStore").apply { load(null) }

  private fun spec(alias: String, challenge: ByteArray?, strongBox: Boolean): KeyGenParameterSpec {
    val builder = KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_SIGN)
      .setAlgorithmParameterSpec(ECGenParameterSpec("secp256r1"))
      .setDigests(KeyProperties.DIGEST_SHA256)
      .setUserAuthenticationRequired(true)
      .setIsStrongBoxBacked(strongBox)
    if (Build.VERSION.SDK_INT >= 30) {
      builder.setUserAuthenticationParameters(
        300, KeyProperties.AUTH_BIOMETRIC_STRONG or KeyProperties.AUTH_DEVICE_CREDENTIAL)
    } else {
      @Suppress("DEPRECATION")
      builder.setUserAuthenticationValidityDurationSeconds(300)
    }
    if (challenge != null) builder.setAttestationChallenge(challenge)
    return builder.build()
  }

  @Command
  fun keyCreate(invoke: Invoke) {
    val args = invoke.parseArgs(KeyArgs::class.java)
    val challenge = args.challenge?.let { bytes(it) }
    io.execute {
      try {
        val generator = KeyPairGenerator.getInstance(KeyProperties.KEY_ALGORITHM_EC, "AndroidKeyStore")
        var strongBox = true
        try {
          generator.initialize(spec(args.alias, challenge, true))
          generator.generateKeyPair()
        } catch (e: StrongBoxUnavailableException) {
          strongBox = false
          generator.initialize(spec(args.alias, challenge, false))
          generator.generateKeyPair()
        }
        val store = keyStore()
        val chain = JSArray()
        store.getCertificateChain(args.alias)?.forEach { chain.put(text(it.encoded)) }
        invoke.resolve(
          JSObject()
            .put("publicKey", text(store.getCertificate(args.alias).publicKey.encoded))
            .put("chain", chain)
            .put("strongBox", strongBox))
      } catch (e: Exception) {
        invoke.reject(e.message ?: "the key could not be made")
      }
    }
  }

  @Command
  fun keyPublic(invoke: Invoke) {
    val alias = invoke.parseArgs(KeyArgs::class.java).alias
    val certificate = keyStore().getCertificate(alias)
    val reply = JSObject()
    if (certificate != null) reply.put("publicKey", text(certificate.publicKey.encoded))
    invoke.resolve(reply)
  }

  @Command
  fun keySign(invoke: Invoke) {
    val args = invoke.parseArgs(KeyArgs::class.java)
    val message = bytes(args.message ?: return invoke.reject("no message"))
    io.execute {
      try {
        val key = keyStore().getKey(args.alias, null) as java.security.PrivateKey
        val signer = Signature.getInstance("SHA256withECDSA")
        signer.initSign(key)
        signer.update(message)
        invoke.resolve(JSObject().put("signature", text(signer.sign())))
      } catch (e: UserNotAuthenticatedException) {
        invoke.reject("notAuthenticated")
      } catch (e: Exception) {
        invoke.reject(e.message ?: "the key could not sign")
      }
    }
  }
}
