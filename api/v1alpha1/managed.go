package v1alpha1

import (
	"fmt"
	"strconv"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Annotations the reconcile skeleton keeps on every WeCom-backed object.
const (
	// AnnotationExternalName holds the WeCom id of the object (a department id in decimal, a
	// userid, a chatid, a config_id, a schedule_id). It survives a restore that drops status,
	// and setting it by hand on a new object binds the object to that existing WeCom object.
	AnnotationExternalName = "wecom.dev/external-name"
	// AnnotationCreatePending holds the time (RFC 3339) a create call to WeCom was started and
	// is removed once its reply is recorded. An object found with it and without an external
	// name had its create reply lost: the operator looks for what the call made instead of
	// creating again.
	AnnotationCreatePending = "wecom.dev/create-pending"
	// AnnotationRefresh holds the time (RFC 3339) of a WeCom callback that said the object
	// changed in WeCom (a hand edit in the admin console). The next reconcile reads the object
	// itself from WeCom, not a shared list, repairs it, and removes the annotation.
	AnnotationRefresh = "wecom.dev/refresh"
)

// Managed is implemented by every kind that the shared reconcile skeleton drives.
// +kubebuilder:object:generate=false
type Managed interface {
	client.Object
	// GetResourceStatus returns the shared part of the status, to be changed in place.
	GetResourceStatus() *ResourceStatus
	// GetConnectionName returns the WeComConnection the object uses.
	GetConnectionName() string
	// GetDeletionPolicy says what deleting the object does in WeCom.
	GetDeletionPolicy() DeletionPolicy
	// GetManagedSpec returns the spec fields every kind shares (connection, policies).
	GetManagedSpec() *ManagedSpec
	// GetManagedStatus returns the status fields every kind shares, to be changed in place.
	GetManagedStatus() *ManagedStatus
	// GetExternalID returns the WeCom id recorded in the status, or "" when there is none.
	GetExternalID() string
	// SetExternalID records a WeCom id (as in AnnotationExternalName) in the status; it fails
	// for a value that cannot be such an id.
	SetExternalID(id string) error
}

// GetConnectionName implements Managed.
func (s *ManagedSpec) GetConnectionName() string { return s.ConnectionRef.Name }

// GetDeletionPolicy implements Managed; an unset policy means Delete.
func (s *DeletableSpec) GetDeletionPolicy() DeletionPolicy {
	if s.DeletionPolicy == "" {
		return DeletionDelete
	}
	return s.DeletionPolicy
}

// GetDeletionPolicy implements Managed: WeCom has no API to dissolve a chat, so a chat is
// always released, never deleted.
func (s *WeComAppChatSpec) GetDeletionPolicy() DeletionPolicy { return DeletionOrphan }

func (o *WeComDepartment) GetResourceStatus() *ResourceStatus { return &o.Status.ResourceStatus }
func (o *WeComDepartment) GetConnectionName() string          { return o.Spec.GetConnectionName() }
func (o *WeComDepartment) GetDeletionPolicy() DeletionPolicy  { return o.Spec.GetDeletionPolicy() }
func (o *WeComDepartment) GetManagedSpec() *ManagedSpec       { return &o.Spec.ManagedSpec }

func (o *WeComUser) GetResourceStatus() *ResourceStatus { return &o.Status.ResourceStatus }
func (o *WeComUser) GetConnectionName() string          { return o.Spec.GetConnectionName() }
func (o *WeComUser) GetDeletionPolicy() DeletionPolicy  { return o.Spec.GetDeletionPolicy() }
func (o *WeComUser) GetManagedSpec() *ManagedSpec       { return &o.Spec.ManagedSpec }

func (o *WeComAppChat) GetResourceStatus() *ResourceStatus { return &o.Status.ResourceStatus }
func (o *WeComAppChat) GetConnectionName() string          { return o.Spec.GetConnectionName() }
func (o *WeComAppChat) GetDeletionPolicy() DeletionPolicy  { return o.Spec.GetDeletionPolicy() }
func (o *WeComAppChat) GetManagedSpec() *ManagedSpec       { return &o.Spec.ManagedSpec }

func (o *ContactWay) GetResourceStatus() *ResourceStatus { return &o.Status.ResourceStatus }
func (o *ContactWay) GetConnectionName() string          { return o.Spec.GetConnectionName() }
func (o *ContactWay) GetDeletionPolicy() DeletionPolicy  { return o.Spec.GetDeletionPolicy() }
func (o *ContactWay) GetManagedSpec() *ManagedSpec       { return &o.Spec.ManagedSpec }

func (o *Schedule) GetResourceStatus() *ResourceStatus { return &o.Status.ResourceStatus }
func (o *Schedule) GetConnectionName() string          { return o.Spec.GetConnectionName() }
func (o *Schedule) GetDeletionPolicy() DeletionPolicy  { return o.Spec.GetDeletionPolicy() }
func (o *Schedule) GetManagedSpec() *ManagedSpec       { return &o.Spec.ManagedSpec }

func (o *WeComDepartment) GetExternalID() string {
	if o.Status.ID == 0 {
		return ""
	}
	return strconv.FormatInt(o.Status.ID, 10)
}

func (o *WeComDepartment) SetExternalID(id string) error {
	if id == "" {
		o.Status.ID = 0
		return nil
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return fmt.Errorf("%s %q is not a WeCom department id (a positive integer)", AnnotationExternalName, id)
	}
	o.Status.ID = n
	return nil
}

func (o *WeComUser) GetExternalID() string { return o.Status.UserID }
func (o *WeComUser) SetExternalID(id string) error {
	if id != "" && !strings.EqualFold(id, o.Spec.UserID) {
		return fmt.Errorf("%s %q differs from spec.userID %q: a member is bound by its userid", AnnotationExternalName, id, o.Spec.UserID)
	}
	o.Status.UserID = id
	return nil
}

func (o *WeComAppChat) GetExternalID() string { return o.Status.ChatID }
func (o *WeComAppChat) SetExternalID(id string) error {
	if id != "" && o.Spec.ChatID != "" && id != o.Spec.ChatID {
		return fmt.Errorf("%s %q differs from spec.chatID %q", AnnotationExternalName, id, o.Spec.ChatID)
	}
	o.Status.ChatID = id
	return nil
}

func (o *ContactWay) GetExternalID() string { return o.Status.ConfigID }
func (o *ContactWay) SetExternalID(id string) error {
	o.Status.ConfigID = id
	return nil
}

func (o *Schedule) GetExternalID() string { return o.Status.ScheduleID }
func (o *Schedule) SetExternalID(id string) error {
	o.Status.ScheduleID = id
	return nil
}

func (o *WeComDepartment) GetManagedStatus() *ManagedStatus { return &o.Status.ManagedStatus }
func (o *WeComUser) GetManagedStatus() *ManagedStatus       { return &o.Status.ManagedStatus }
func (o *WeComAppChat) GetManagedStatus() *ManagedStatus    { return &o.Status.ManagedStatus }
func (o *ContactWay) GetManagedStatus() *ManagedStatus      { return &o.Status.ManagedStatus }
func (o *Schedule) GetManagedStatus() *ManagedStatus        { return &o.Status.ManagedStatus }

func (o *WeComTag) GetResourceStatus() *ResourceStatus { return &o.Status.ResourceStatus }
func (o *WeComTag) GetConnectionName() string          { return o.Spec.GetConnectionName() }
func (o *WeComTag) GetDeletionPolicy() DeletionPolicy  { return o.Spec.GetDeletionPolicy() }
func (o *WeComTag) GetManagedSpec() *ManagedSpec       { return &o.Spec.ManagedSpec }
func (o *WeComTag) GetManagedStatus() *ManagedStatus   { return &o.Status.ManagedStatus }

func (o *WeComTag) GetExternalID() string {
	if o.Status.TagID == 0 {
		return ""
	}
	return strconv.FormatInt(o.Status.TagID, 10)
}

func (o *WeComTag) SetExternalID(id string) error {
	if id == "" {
		o.Status.TagID = 0
		return nil
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return fmt.Errorf("%s %q is not a WeCom tag id (a positive integer)", AnnotationExternalName, id)
	}
	if o.Spec.ID != nil && n != *o.Spec.ID {
		return fmt.Errorf("%s %q differs from spec.id %d", AnnotationExternalName, id, *o.Spec.ID)
	}
	o.Status.TagID = n
	return nil
}

// WeComCalendar (issue 12).

func (o *WeComCalendar) GetResourceStatus() *ResourceStatus { return &o.Status.ResourceStatus }
func (o *WeComCalendar) GetConnectionName() string          { return o.Spec.GetConnectionName() }
func (o *WeComCalendar) GetDeletionPolicy() DeletionPolicy  { return o.Spec.GetDeletionPolicy() }
func (o *WeComCalendar) GetManagedSpec() *ManagedSpec       { return &o.Spec.ManagedSpec }
func (o *WeComCalendar) GetManagedStatus() *ManagedStatus   { return &o.Status.ManagedStatus }
func (o *WeComCalendar) GetExternalID() string              { return o.Status.CalendarID }
func (o *WeComCalendar) SetExternalID(id string) error {
	o.Status.CalendarID = id
	return nil
}
