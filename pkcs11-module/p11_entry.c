/* The PKCS#11 entry points, and nothing else: each checks initialisation,
 * finds the session or slot, takes the token lock (kwp11_enter_*), checks
 * arguments the internal function cannot, and dispatches. Functions
 * keyward does not offer are in p11_entry_none.c. */
#include <string.h>

#include "p11_int.h"

#define KW_EXPORT __attribute__((visibility("default")))

extern CK_FUNCTION_LIST kwp11_function_list;

KW_EXPORT CK_RV
C_Initialize(CK_VOID_PTR pInitArgs)
{
	return kwp11_module_init(pInitArgs);
}

KW_EXPORT CK_RV
C_Finalize(CK_VOID_PTR pReserved)
{
	return kwp11_module_fini(pReserved);
}

KW_EXPORT CK_RV
C_GetInfo(CK_INFO_PTR pInfo)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter(&c)) != CKR_OK)
		return rv;
	rv = pInfo == NULL ? CKR_ARGUMENTS_BAD : kwp11_get_info(pInfo);
	kwp11_leave(&c);
	return rv;
}

KW_EXPORT CK_RV
C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR ppFunctionList)
{
	if (ppFunctionList == NULL)
		return CKR_ARGUMENTS_BAD;
	*ppFunctionList = &kwp11_function_list;
	return CKR_OK;
}

KW_EXPORT CK_RV
C_GetSlotList(CK_BBOOL tokenPresent, CK_SLOT_ID_PTR pSlotList, CK_ULONG_PTR pulCount)
{
	kwp11_call c;
	CK_RV rv;

	if (pulCount == NULL)
		return CKR_ARGUMENTS_BAD;
	if ((rv = kwp11_enter(&c)) != CKR_OK)
		return rv;
	rv = kwp11_slot_list(c.m, tokenPresent, pSlotList, pulCount);
	kwp11_leave(&c);
	return rv;
}

KW_EXPORT CK_RV
C_GetSlotInfo(CK_SLOT_ID slotID, CK_SLOT_INFO_PTR pInfo)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_slot(slotID, &c, false)) != CKR_OK)
		return rv;
	rv = pInfo == NULL ? CKR_ARGUMENTS_BAD : kwp11_slot_info(c.tok, pInfo);
	kwp11_leave(&c);
	return rv;
}

KW_EXPORT CK_RV
C_GetTokenInfo(CK_SLOT_ID slotID, CK_TOKEN_INFO_PTR pInfo)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_slot(slotID, &c, false)) != CKR_OK)
		return rv;
	rv = pInfo == NULL ? CKR_ARGUMENTS_BAD : kwp11_token_info(c.tok, pInfo);
	kwp11_leave(&c);
	return rv;
}

KW_EXPORT CK_RV
C_WaitForSlotEvent(CK_FLAGS flags, CK_SLOT_ID_PTR pSlot, CK_VOID_PTR pReserved)
{
	if (pSlot == NULL || pReserved != NULL)
		return CKR_ARGUMENTS_BAD;
	return kwp11_wait_for_slot_event(flags, pSlot);
}

KW_EXPORT CK_RV
C_GetMechanismList(CK_SLOT_ID slotID, CK_MECHANISM_TYPE_PTR pMechanismList, CK_ULONG_PTR pulCount)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_slot(slotID, &c, false)) != CKR_OK)
		return rv;
	rv = pulCount == NULL ? CKR_ARGUMENTS_BAD : kwp11_mech_list(c.tok, pMechanismList, pulCount);
	kwp11_leave(&c);
	return rv;
}

KW_EXPORT CK_RV
C_GetMechanismInfo(CK_SLOT_ID slotID, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR pInfo)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_slot(slotID, &c, false)) != CKR_OK)
		return rv;
	rv = pInfo == NULL ? CKR_ARGUMENTS_BAD : kwp11_mech_info(c.tok, type, pInfo);
	kwp11_leave(&c);
	return rv;
}

KW_EXPORT CK_RV
C_InitPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	rv = kwp11_init_pin(c.s, pPin, ulPinLen);
	kwp11_leave(&c);
	return rv;
}

KW_EXPORT CK_RV
C_SetPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pOldPin, CK_ULONG ulOldLen,
    CK_UTF8CHAR_PTR pNewPin, CK_ULONG ulNewLen)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	rv = kwp11_set_pin(c.s, pOldPin, ulOldLen, pNewPin, ulNewLen);
	kwp11_leave(&c);
	return rv;
}

KW_EXPORT CK_RV
C_OpenSession(CK_SLOT_ID slotID, CK_FLAGS flags, CK_VOID_PTR pApplication, CK_NOTIFY Notify,
    CK_SESSION_HANDLE_PTR phSession)
{
	kwp11_call c;
	CK_RV rv;

	(void)pApplication;
	(void)Notify;   /* no callbacks: every function returns when done */
	if (phSession == NULL)
		return CKR_ARGUMENTS_BAD;
	if ((rv = kwp11_enter_slot(slotID, &c, false)) != CKR_OK)
		return rv;
	rv = kwp11_session_open(c.m, c.tok, flags, phSession);
	kwp11_leave(&c);
	return rv;
}

KW_EXPORT CK_RV
C_CloseSession(CK_SESSION_HANDLE hSession)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, true)) != CKR_OK)
		return rv;
	rv = kwp11_session_close(c.m, c.s);
	kwp11_leave(&c);
	return rv;
}

KW_EXPORT CK_RV
C_CloseAllSessions(CK_SLOT_ID slotID)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_slot(slotID, &c, true)) != CKR_OK)
		return rv;
	rv = kwp11_session_close_all(c.m, c.tok);
	kwp11_leave(&c);
	return rv;
}

KW_EXPORT CK_RV
C_GetSessionInfo(CK_SESSION_HANDLE hSession, CK_SESSION_INFO_PTR pInfo)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	rv = pInfo == NULL ? CKR_ARGUMENTS_BAD : kwp11_session_info(c.s, pInfo);
	kwp11_leave(&c);
	return rv;
}

KW_EXPORT CK_RV
C_Login(CK_SESSION_HANDLE hSession, CK_USER_TYPE userType, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	rv = kwp11_login(c.m, c.s, userType, pPin, ulPinLen);
	kwp11_leave(&c);
	return rv;
}

KW_EXPORT CK_RV
C_LoginUser(CK_SESSION_HANDLE hSession, CK_USER_TYPE userType, CK_UTF8CHAR_PTR pPin,
    CK_ULONG ulPinLen, CK_UTF8CHAR_PTR pUsername, CK_ULONG ulUsernameLen)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	rv = pUsername != NULL || ulUsernameLen != 0 ? CKR_ARGUMENTS_BAD : kwp11_login(c.m, c.s, userType, pPin, ulPinLen);
	kwp11_leave(&c);
	return rv;
}

KW_EXPORT CK_RV
C_Logout(CK_SESSION_HANDLE hSession)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	rv = kwp11_logout(c.s);
	kwp11_leave(&c);
	return rv;
}

KW_EXPORT CK_RV
C_CreateObject(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount,
    CK_OBJECT_HANDLE_PTR phObject)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	rv = kwp11_create_object(c.s, pTemplate, ulCount, phObject);
	kwp11_leave(&c);
	return rv;
}

KW_EXPORT CK_RV
C_DestroyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	rv = kwp11_destroy_object(c.s, hObject);
	kwp11_leave(&c);
	return rv;
}

KW_EXPORT CK_RV
C_GetObjectSize(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ULONG_PTR pulSize)
{
	kwp11_call c;
	kwp11_obj *o;
	CK_RV rv;

	if (pulSize == NULL)
		return CKR_ARGUMENTS_BAD;
	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	if ((rv = kwp11_obj_lookup(c.tok, hObject, &o)) == CKR_OK)
		rv = kwp11_obj_size(c.tok, o, pulSize);
	kwp11_leave(&c);
	return rv;
}

KW_EXPORT CK_RV
C_GetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
    CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
	kwp11_call c;
	CK_RV rv;

	if (pTemplate == NULL && ulCount > 0)
		return CKR_ARGUMENTS_BAD;
	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	rv = kwp11_attr_get(c.tok, hObject, pTemplate, ulCount);
	kwp11_leave(&c);
	return rv;
}

KW_EXPORT CK_RV
C_SetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
    CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
	kwp11_call c;
	kwp11_obj *o;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	rv = kwp11_obj_lookup(c.tok, hObject, &o);
	kwp11_leave(&c);
	if (rv != CKR_OK)
		return rv;
	/* PIV objects have no modifiable attributes */
	return pTemplate == NULL && ulCount > 0 ? CKR_ARGUMENTS_BAD : CKR_ACTION_PROHIBITED;
}

KW_EXPORT CK_RV
C_FindObjectsInit(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	rv = kwp11_find_init(c.s, pTemplate, ulCount);
	kwp11_leave(&c);
	return rv;
}

KW_EXPORT CK_RV
C_FindObjects(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE_PTR phObject,
    CK_ULONG ulMaxObjectCount, CK_ULONG_PTR pulObjectCount)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	rv = phObject == NULL || pulObjectCount == NULL ? CKR_ARGUMENTS_BAD :
	    kwp11_find(c.s, phObject, ulMaxObjectCount, pulObjectCount);
	kwp11_leave(&c);
	return rv;
}

KW_EXPORT CK_RV
C_FindObjectsFinal(CK_SESSION_HANDLE hSession)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	rv = kwp11_find_final(c.s);
	kwp11_leave(&c);
	return rv;
}

KW_EXPORT CK_RV
C_DecryptInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	rv = kwp11_decrypt_init(c.s, pMechanism, hKey);
	kwp11_leave(&c);
	return rv;
}

KW_EXPORT CK_RV
C_Decrypt(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedData, CK_ULONG ulEncryptedDataLen,
    CK_BYTE_PTR pData, CK_ULONG_PTR pulDataLen)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	rv = kwp11_decrypt(c.s, pEncryptedData, ulEncryptedDataLen, pData, pulDataLen);
	kwp11_leave(&c);
	return rv;
}

KW_EXPORT CK_RV
C_DecryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart,
    CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	rv = kwp11_decrypt_update(c.s, pEncryptedPart, ulEncryptedPartLen, pPart, pulPartLen);
	kwp11_leave(&c);
	return rv;
}

KW_EXPORT CK_RV
C_DecryptFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pLastPart, CK_ULONG_PTR pulLastPartLen)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	rv = kwp11_decrypt_final(c.s, pLastPart, pulLastPartLen);
	kwp11_leave(&c);
	return rv;
}

KW_EXPORT CK_RV
C_SignInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	rv = kwp11_sign_init(c.s, pMechanism, hKey);
	kwp11_leave(&c);
	return rv;
}

KW_EXPORT CK_RV
C_Sign(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
    CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	rv = kwp11_sign(c.s, pData, ulDataLen, pSignature, pulSignatureLen);
	kwp11_leave(&c);
	return rv;
}

KW_EXPORT CK_RV
C_SignUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	rv = kwp11_sign_update(c.s, pPart, ulPartLen);
	kwp11_leave(&c);
	return rv;
}

KW_EXPORT CK_RV
C_SignFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	rv = kwp11_sign_final(c.s, pSignature, pulSignatureLen);
	kwp11_leave(&c);
	return rv;
}

KW_EXPORT CK_RV
C_GenerateKeyPair(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
    CK_ATTRIBUTE_PTR pPublicKeyTemplate, CK_ULONG ulPublicKeyAttributeCount,
    CK_ATTRIBUTE_PTR pPrivateKeyTemplate, CK_ULONG ulPrivateKeyAttributeCount,
    CK_OBJECT_HANDLE_PTR phPublicKey, CK_OBJECT_HANDLE_PTR phPrivateKey)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	rv = kwp11_generate_key_pair(c.s, pMechanism, pPublicKeyTemplate,
	    ulPublicKeyAttributeCount, pPrivateKeyTemplate, ulPrivateKeyAttributeCount,
	    phPublicKey, phPrivateKey);
	kwp11_leave(&c);
	return rv;
}

KW_EXPORT CK_RV
C_UnwrapKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
    CK_OBJECT_HANDLE hUnwrappingKey, CK_BYTE_PTR pWrappedKey, CK_ULONG ulWrappedKeyLen,
    CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulAttributeCount, CK_OBJECT_HANDLE_PTR phKey)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	rv = kwp11_unwrap_key(c.s, pMechanism, hUnwrappingKey, pWrappedKey, ulWrappedKeyLen,
	    pTemplate, ulAttributeCount, phKey);
	kwp11_leave(&c);
	return rv;
}

KW_EXPORT CK_RV
C_DeriveKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hBaseKey,
    CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulAttributeCount, CK_OBJECT_HANDLE_PTR phKey)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	rv = kwp11_derive(c.s, pMechanism, hBaseKey, pTemplate, ulAttributeCount, phKey);
	kwp11_leave(&c);
	return rv;
}

KW_EXPORT CK_RV
C_SeedRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSeed, CK_ULONG ulSeedLen)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	rv = CKR_RANDOM_SEED_NOT_SUPPORTED;
	kwp11_leave(&c);
	return rv;
}

KW_EXPORT CK_RV
C_GenerateRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR RandomData, CK_ULONG ulRandomLen)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	rv = kwp11_random(RandomData, ulRandomLen);
	kwp11_leave(&c);
	return rv;
}

KW_EXPORT CK_RV
C_GetFunctionStatus(CK_SESSION_HANDLE hSession)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	rv = CKR_FUNCTION_NOT_PARALLEL;
	kwp11_leave(&c);
	return rv;
}

KW_EXPORT CK_RV
C_CancelFunction(CK_SESSION_HANDLE hSession)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	rv = CKR_FUNCTION_NOT_PARALLEL;
	kwp11_leave(&c);
	return rv;
}

KW_EXPORT CK_RV
C_SessionCancel(CK_SESSION_HANDLE hSession, CK_FLAGS flags)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	rv = ((flags & (CKF_SIGN | CKF_DECRYPT)) != 0 && c.s->op.kind != KWP11_OP_NONE) ?
	    (kwp11_op_reset(&c.s->op), CKR_OK) : CKR_OK;
	kwp11_leave(&c);
	return rv;
}
