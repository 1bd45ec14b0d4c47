package app.doorstep.plugin

import android.nfc.cardemulation.HostApduService
import android.os.Bundle
import android.util.Base64
import app.tauri.plugin.Channel
import app.tauri.plugin.JSObject

/**
 * The door card. Each command APDU goes up to Rust unchanged; Rust's answer comes back through
 * [respond]. Nothing here reads the bytes.
 */
class DoorCardService : HostApduService() {
  companion object {
    /** Set while the door screen is up; null otherwise. */
    @Volatile var toRust: Channel? = null
    @Volatile private var current: DoorCardService? = null
    private val NOT_ARMED = byteArrayOf(0x69.toByte(), 0x85.toByte())

    fun respond(apdu: ByteArray) {
      current?.sendResponseApdu(apdu)
    }
  }

  override fun processCommandApdu(commandApdu: ByteArray, extras: Bundle?): ByteArray? {
    val channel = toRust ?: return NOT_ARMED
    current = this
    channel.send(JSObject().put("apdu", Base64.encodeToString(commandApdu, Base64.NO_WRAP)))
    // Answered later, from Rust, through sendResponseApdu.
    return null
  }

  override fun onDeactivated(reason: Int) {
    toRust?.send(JSObject().put("deactivated", true))
  }
}
